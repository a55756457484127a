-- The outbound queue (PostgreSQL 007): a composed message, one delivery per recipient domain, each
-- recipient's result, idempotency keys of the send API, and the event log of every state change.
-- Times are ISO 8601 UTC with milliseconds (Date.toISOString), so they compare as text.
CREATE TABLE outbound (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  mail_from TEXT NOT NULL,
  rcpt_to TEXT NOT NULL,
  header_message_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  source TEXT NOT NULL,
  client_ip TEXT NOT NULL DEFAULT '',
  auth_user TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  metadata TEXT NOT NULL DEFAULT '{}',
  queued_at TEXT NOT NULL,
  send_at TEXT NOT NULL
);

CREATE TABLE outbound_raw (
  seq INTEGER PRIMARY KEY,
  raw BLOB NOT NULL
);

CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  outbound_seq INTEGER NOT NULL,
  domain TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('queued', 'sending', 'deferred', 'held', 'delivered', 'bounced', 'expired', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  lease_owner TEXT,
  lease_expires_at TEXT,
  -- When the last attempt started: per-destination rates count these.
  claimed_at TEXT,
  last_reply TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (outbound_seq, domain)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('queued', 'deferred');
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE state = 'sending';
CREATE INDEX deliveries_state ON deliveries (state, seq);
CREATE INDEX deliveries_claimed ON deliveries (claimed_at);

CREATE TABLE delivery_recipients (
  delivery_seq INTEGER NOT NULL,
  address TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  reply TEXT,
  PRIMARY KEY (delivery_seq, address)
);

CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  outbound_id TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE outbound_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  outbound_seq INTEGER NOT NULL,
  delivery_seq INTEGER,
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX outbound_events_message ON outbound_events (outbound_seq, seq);

-- Addresses no delivery is attempted to: hard bounces, complaints, and the operator's list.
CREATE TABLE suppressions (
  address TEXT PRIMARY KEY,
  reason TEXT NOT NULL CHECK (reason IN ('hard-bounce', 'complaint', 'unsubscribe', 'manual')),
  detail TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT
);

-- Message templates (Handlebars): subject, text and HTML, rendered with a send request's data.
CREATE TABLE templates (
  name TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
