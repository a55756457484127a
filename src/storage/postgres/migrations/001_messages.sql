-- Spool and parsed store: the same tables and columns as the SQLite 001 so storage/rows.ts maps
-- both. Raw bytes live in their own table so listing scans stay small.
CREATE TABLE messages (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  received_at TIMESTAMPTZ NOT NULL,
  size BIGINT NOT NULL,
  envelope JSONB NOT NULL,
  read BOOLEAN NOT NULL DEFAULT false,
  parse_state TEXT NOT NULL DEFAULT 'pending' CHECK (parse_state IN ('pending', 'parsed', 'failed')),
  parse_error TEXT,
  message_id TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  from_addr JSONB,
  to_addrs JSONB NOT NULL DEFAULT '[]',
  cc_addrs JSONB NOT NULL DEFAULT '[]',
  bcc_addrs JSONB NOT NULL DEFAULT '[]',
  reply_to JSONB NOT NULL DEFAULT '[]',
  snippet TEXT NOT NULL DEFAULT '',
  attachment_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_pending ON messages (seq) WHERE parse_state = 'pending';
CREATE INDEX messages_unread ON messages (seq) WHERE NOT read;

CREATE TABLE message_raw (
  seq BIGINT PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
  raw BYTEA NOT NULL
);

-- JSON rather than JSONB: the parsed body is only ever read whole, and json keeps a \u0000 escape
-- (a NUL in a decoded text part) that jsonb rejects.
CREATE TABLE message_body (
  seq BIGINT PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
  parsed JSON NOT NULL
);
