-- Search and tags. Searchable text lives beside the message (message_search, one row per parsed
-- message, already normalised by src/search/text.ts) and in a contentless FTS5 index keyed by seq.
ALTER TABLE messages ADD COLUMN inline_count INTEGER NOT NULL DEFAULT 0;
-- Tag names of the message as a JSON array, kept in step with message_tags so listing needs no join.
ALTER TABLE messages ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

CREATE TABLE message_search (
  seq INTEGER PRIMARY KEY,
  s_from TEXT NOT NULL DEFAULT '',
  s_to TEXT NOT NULL DEFAULT '',
  s_cc TEXT NOT NULL DEFAULT '',
  s_bcc TEXT NOT NULL DEFAULT '',
  s_reply_to TEXT NOT NULL DEFAULT '',
  s_subject TEXT NOT NULL DEFAULT '',
  s_message_id TEXT NOT NULL DEFAULT '',
  s_headers TEXT NOT NULL DEFAULT ''
);

-- Tokens are produced by src/search/text.ts, so the tokenizer only splits on spaces in practice.
CREATE VIRTUAL TABLE message_fts USING fts5 (
  words,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 0'
);

-- `norm` is the case- and accent-insensitive form (text.ts normalize): one tag per norm.
CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  norm TEXT NOT NULL UNIQUE
);

CREATE TABLE message_tags (
  seq INTEGER NOT NULL,
  tag_id INTEGER NOT NULL,
  PRIMARY KEY (seq, tag_id)
) WITHOUT ROWID;
CREATE INDEX message_tags_tag ON message_tags (tag_id, seq);

-- Retention prunes by age.
CREATE INDEX messages_received ON messages (received_at);

-- Messages parsed before search existed are parsed again, which fills the index.
UPDATE messages SET parse_state = 'pending' WHERE parse_state = 'parsed';
