-- Search and tags, as in the SQLite 002: normalised search columns (src/search/text.ts) and a
-- full-text vector over pre-tokenised words, with the 'simple' configuration (no stemming, no
-- stop words) so both engines match the same words.
ALTER TABLE messages ADD COLUMN inline_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN tags JSONB NOT NULL DEFAULT '[]';

CREATE TABLE message_search (
  seq BIGINT PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
  s_from TEXT NOT NULL DEFAULT '',
  s_to TEXT NOT NULL DEFAULT '',
  s_cc TEXT NOT NULL DEFAULT '',
  s_bcc TEXT NOT NULL DEFAULT '',
  s_reply_to TEXT NOT NULL DEFAULT '',
  s_subject TEXT NOT NULL DEFAULT '',
  s_message_id TEXT NOT NULL DEFAULT '',
  s_headers TEXT NOT NULL DEFAULT '',
  words TSVECTOR NOT NULL
);
CREATE INDEX message_search_words ON message_search USING GIN (words);

CREATE TABLE tags (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  norm TEXT NOT NULL UNIQUE
);

CREATE TABLE message_tags (
  seq BIGINT NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
  tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (seq, tag_id)
);
CREATE INDEX message_tags_tag ON message_tags (tag_id, seq);

CREATE INDEX messages_received ON messages (received_at);

-- Messages parsed before search existed are parsed again, which fills the index.
UPDATE messages SET parse_state = 'pending' WHERE parse_state = 'parsed';
