-- The outbound queue, as in the SQLite 004: a composed message, one delivery per recipient
-- domain, each recipient's result, idempotency keys of the send API, and the event log.
CREATE TABLE outbound (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  mail_from TEXT NOT NULL,
  rcpt_to JSONB NOT NULL,
  header_message_id TEXT NOT NULL,
  size BIGINT NOT NULL,
  source TEXT NOT NULL,
  client_ip TEXT NOT NULL DEFAULT '',
  auth_user TEXT,
  tags JSONB NOT NULL DEFAULT '[]',
  metadata JSONB NOT NULL DEFAULT '{}',
  queued_at TIMESTAMPTZ NOT NULL,
  send_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE outbound_raw (
  seq BIGINT PRIMARY KEY REFERENCES outbound (seq) ON DELETE CASCADE,
  raw BYTEA NOT NULL
);

CREATE TABLE deliveries (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  outbound_seq BIGINT NOT NULL REFERENCES outbound (seq) ON DELETE CASCADE,
  domain TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('queued', 'sending', 'deferred', 'held', 'delivered', 'bounced', 'expired', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  lease_owner TEXT,
  lease_expires_at TIMESTAMPTZ,
  -- When the last attempt started: per-destination rates count these.
  claimed_at TIMESTAMPTZ,
  last_reply TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  UNIQUE (outbound_seq, domain)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('queued', 'deferred');
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE state = 'sending';
CREATE INDEX deliveries_state ON deliveries (state, seq);
CREATE INDEX deliveries_claimed ON deliveries (claimed_at);

CREATE TABLE delivery_recipients (
  delivery_seq BIGINT NOT NULL REFERENCES deliveries (seq) ON DELETE CASCADE,
  address TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  reply TEXT,
  PRIMARY KEY (delivery_seq, address)
);

CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  outbound_id TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE outbound_events (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  at TIMESTAMPTZ NOT NULL,
  type TEXT NOT NULL,
  outbound_seq BIGINT NOT NULL REFERENCES outbound (seq) ON DELETE CASCADE,
  delivery_seq BIGINT REFERENCES deliveries (seq) ON DELETE CASCADE,
  data JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX outbound_events_message ON outbound_events (outbound_seq, seq);

-- Addresses no delivery is attempted to: hard bounces, complaints, and the operator's list.
CREATE TABLE suppressions (
  address TEXT PRIMARY KEY,
  reason TEXT NOT NULL CHECK (reason IN ('hard-bounce', 'complaint', 'unsubscribe', 'manual')),
  detail TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ
);

-- Message templates (Handlebars): subject, text and HTML, rendered with a send request's data.
CREATE TABLE templates (
  name TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
