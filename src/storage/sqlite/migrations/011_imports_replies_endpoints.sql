-- Import keys of polled messages (IMAP UIDVALIDITY+UID, POP3 UIDL, content hash): a message is
-- imported once, ever, even after it is deleted here, so the keys do not reference messages.
CREATE TABLE import_keys (
  key TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  imported_at TEXT NOT NULL
) WITHOUT ROWID;

-- When an automatic reply last went to a sender, per route (RFC 3834: at most one per period).
CREATE TABLE auto_replies (
  scope TEXT NOT NULL,
  sender TEXT NOT NULL,
  job_id TEXT NOT NULL,
  replied_at TEXT NOT NULL,
  PRIMARY KEY (scope, sender)
) WITHOUT ROWID;

-- Webhook URLs' health: failures in a row, and when the endpoint was disabled for them.
CREATE TABLE webhook_endpoints (
  url TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,
  disabled_at TEXT,
  last_error TEXT,
  last_success_at TEXT,
  updated_at TEXT NOT NULL
);
