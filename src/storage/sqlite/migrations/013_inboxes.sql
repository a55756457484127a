-- Inboxes (as the PostgreSQL 016): the inbox a message was filed in is part of its stored envelope
-- (domain/inbox.ts); a column generated from it, and an index on it with seq, serve the
-- `inbox:` search term, lists limited to one inbox and their counts. Messages stored before have
-- no inbox in their envelope and are in the default one.
ALTER TABLE messages ADD COLUMN inbox TEXT
  GENERATED ALWAYS AS (coalesce(json_extract(envelope, '$.inbox'), 'default')) VIRTUAL;
CREATE INDEX messages_inbox ON messages (inbox, seq);
