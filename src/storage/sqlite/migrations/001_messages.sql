-- Spool and parsed store. Raw bytes live in their own table so listing scans stay small.
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  received_at TEXT NOT NULL,
  size INTEGER NOT NULL,
  envelope TEXT NOT NULL,
  read INTEGER NOT NULL DEFAULT 0,
  parse_state TEXT NOT NULL DEFAULT 'pending',
  parse_error TEXT,
  message_id TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  from_addr TEXT,
  to_addrs TEXT NOT NULL DEFAULT '[]',
  cc_addrs TEXT NOT NULL DEFAULT '[]',
  bcc_addrs TEXT NOT NULL DEFAULT '[]',
  reply_to TEXT NOT NULL DEFAULT '[]',
  snippet TEXT NOT NULL DEFAULT '',
  attachment_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_pending ON messages (seq) WHERE parse_state = 'pending';
CREATE INDEX messages_unread ON messages (seq) WHERE read = 0;

CREATE TABLE message_raw (
  seq INTEGER PRIMARY KEY,
  raw BLOB NOT NULL
);

CREATE TABLE message_body (
  seq INTEGER PRIMARY KEY,
  parsed TEXT NOT NULL
);
