-- Inbound routes made through the API, as in the SQLite 009.
CREATE TABLE routes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  priority INTEGER NOT NULL,
  enabled BOOLEAN NOT NULL,
  match TEXT NOT NULL CHECK (match IN ('all', 'any')),
  conditions JSONB NOT NULL,
  actions JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
