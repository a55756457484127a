-- Inbound routes made through the API (the config file's are read at start-up, not stored):
-- conditions and actions as JSON, in the shapes of src/domain/route.ts.
CREATE TABLE routes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  priority INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  match TEXT NOT NULL CHECK (match IN ('all', 'any')),
  conditions TEXT NOT NULL,
  actions TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
