-- API keys made through the API or `mailroom keys` (PostgreSQL 008). Only a SHA-256 hash of each
-- key's secret is kept (hex); the key itself is shown once, when it is made. Revoked and expired
-- keys stay listed. Times are ISO 8601 UTC with milliseconds, so they compare as text.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- JSON array of 'send', 'read', 'manage'.
  scopes TEXT NOT NULL CHECK (json_valid(scopes)),
  secret_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  -- Written at most about once a minute per key, not on every request.
  last_used_at TEXT,
  expires_at TEXT,
  revoked_at TEXT
);

CREATE INDEX api_keys_newest ON api_keys (created_at DESC, id);
