-- API keys made through the API or `mailroom keys` (SQLite 005). Only a SHA-256 hash of each key's
-- secret is kept (hex); the key itself is shown once, when it is made. Revoked and expired keys
-- stay listed.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  scopes TEXT[] NOT NULL CHECK (scopes <@ ARRAY['send', 'read', 'manage']::text[]),
  secret_hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  -- Written at most about once a minute per key, not on every request.
  last_used_at TIMESTAMPTZ,
  expires_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ
);

CREATE INDEX api_keys_newest ON api_keys (created_at DESC, id);
