-- As the SQLite 011: import keys of polled messages (kept after the message is deleted, so it is
-- never imported again), automatic replies per route and sender, and webhook URLs' health.
CREATE TABLE import_keys (
  key TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  imported_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE auto_replies (
  scope TEXT NOT NULL,
  sender TEXT NOT NULL,
  job_id TEXT NOT NULL,
  replied_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (scope, sender)
);

CREATE TABLE webhook_endpoints (
  url TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,
  disabled_at TIMESTAMPTZ,
  last_error TEXT,
  last_success_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL
);
