-- The support desk (as the PostgreSQL 015): tickets numbered per desk, their conversation entries
-- (with the bytes of each message, kept whatever the inbox's retention prunes), held messages, the
-- ticket event log and the positions of the feeds that deliver it.
CREATE TABLE ticket_desks (
  desk TEXT PRIMARY KEY,
  next_number INTEGER NOT NULL
) WITHOUT ROWID;

-- participants and tags are JSON arrays; key_norm is the key upper-cased (by the application, so
-- both engines fold case alike) and search_text the key, subject and requester lower-cased.
CREATE TABLE tickets (
  id TEXT PRIMARY KEY,
  desk TEXT NOT NULL,
  number INTEGER NOT NULL,
  key TEXT NOT NULL,
  key_norm TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  requester TEXT NOT NULL,
  requester_name TEXT NOT NULL,
  participants TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'pending', 'solved', 'closed')),
  assignee TEXT,
  tags TEXT NOT NULL,
  last_customer_message_id TEXT,
  last_customer_references TEXT NOT NULL,
  search_text TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  entry_count INTEGER NOT NULL,
  UNIQUE (desk, number)
);
CREATE INDEX tickets_updated ON tickets (updated_at DESC, id);

-- pos orders a ticket's conversation. The same message, or the same Message-ID, twice in a desk
-- is one entry: the partial unique indexes back the store's duplicate check. from_lower and
-- to_lower are lower-cased copies for counting by sender and recipient.
CREATE TABLE ticket_entries (
  id TEXT PRIMARY KEY,
  ticket_id TEXT NOT NULL REFERENCES tickets (id),
  desk TEXT NOT NULL,
  pos INTEGER NOT NULL,
  kind TEXT NOT NULL,
  message_id TEXT,
  outbound_id TEXT,
  header_message_id TEXT,
  from_addr TEXT NOT NULL,
  from_lower TEXT NOT NULL,
  from_name TEXT NOT NULL,
  to_addrs TEXT NOT NULL,
  to_lower TEXT NOT NULL,
  cc_addrs TEXT NOT NULL,
  subject TEXT NOT NULL,
  text TEXT NOT NULL,
  stripped_text TEXT NOT NULL,
  html TEXT,
  attachments TEXT NOT NULL,
  author TEXT,
  note TEXT,
  search_text TEXT NOT NULL,
  at TEXT NOT NULL,
  UNIQUE (ticket_id, pos)
);
CREATE UNIQUE INDEX ticket_entries_message ON ticket_entries (desk, message_id) WHERE message_id IS NOT NULL;
CREATE UNIQUE INDEX ticket_entries_header ON ticket_entries (desk, header_message_id)
  WHERE header_message_id IS NOT NULL;
CREATE INDEX ticket_entries_from ON ticket_entries (from_lower, at);

CREATE TABLE ticket_entry_raw (
  entry_id TEXT PRIMARY KEY REFERENCES ticket_entries (id),
  raw BLOB NOT NULL
);

CREATE TABLE ticket_held (
  message_id TEXT NOT NULL,
  desk TEXT NOT NULL,
  ticket_id TEXT,
  reason TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  at TEXT NOT NULL,
  resolution TEXT,
  resolved_at TEXT,
  PRIMARY KEY (message_id, desk)
) WITHOUT ROWID;
CREATE INDEX ticket_held_at ON ticket_held (at);

CREATE TABLE ticket_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  ticket_id TEXT,
  data TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, seq);

-- A feed's position in ticket_events and its lease (one deliverer per feed at a time).
CREATE TABLE ticket_feeds (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  owner TEXT,
  lease_until TEXT
);
