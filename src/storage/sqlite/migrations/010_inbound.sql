-- The inbound pipeline: a cursor over messages (routing takes them in seq order, one node at a
-- time under a lease), the action jobs routes start, and the inbound event log. Messages already
-- stored when this runs are not routed after the fact: the cursor starts past them.
CREATE TABLE pipeline_cursors (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at TEXT
);
INSERT INTO pipeline_cursors (name, seq) SELECT 'routing', coalesce(max(seq), 0) FROM messages;

CREATE TABLE action_jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL,
  route_id TEXT NOT NULL,
  action_index INTEGER NOT NULL,
  action TEXT NOT NULL,
  captures TEXT NOT NULL,
  recipient TEXT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  lease_owner TEXT,
  lease_expires_at TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX action_jobs_due ON action_jobs (next_attempt_at, seq) WHERE state = 'pending';
CREATE INDEX action_jobs_leased ON action_jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX action_jobs_message ON action_jobs (message_id, seq);

CREATE TABLE inbound_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  message_id TEXT NOT NULL,
  route_id TEXT,
  data TEXT NOT NULL
);
CREATE INDEX inbound_events_message ON inbound_events (message_id, seq);
