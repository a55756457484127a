-- The inbound pipeline, as in the SQLite 010: a cursor over messages (routing takes them in seq
-- order, one node at a time under a lease), the action jobs routes start, and the inbound event
-- log. Messages already stored when this runs are not routed after the fact.
CREATE TABLE pipeline_cursors (
  name TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires_at TIMESTAMPTZ
);
INSERT INTO pipeline_cursors (name, seq) SELECT 'routing', coalesce(max(seq), 0) FROM messages;

CREATE TABLE action_jobs (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL,
  route_id TEXT NOT NULL,
  action_index INTEGER NOT NULL,
  action JSONB NOT NULL,
  captures JSONB NOT NULL,
  recipient TEXT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  lease_owner TEXT,
  lease_expires_at TIMESTAMPTZ,
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX action_jobs_due ON action_jobs (next_attempt_at, seq) WHERE state = 'pending';
CREATE INDEX action_jobs_leased ON action_jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX action_jobs_message ON action_jobs (message_id, seq);

CREATE TABLE inbound_events (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  at TIMESTAMPTZ NOT NULL,
  type TEXT NOT NULL,
  message_id TEXT NOT NULL,
  route_id TEXT,
  data JSONB NOT NULL
);
CREATE INDEX inbound_events_message ON inbound_events (message_id, seq);
