-- Full-text vectors move out of `message_search` into their own table and stay in its heap rows
-- (STORAGE MAIN) instead of out of line in TOAST (ADR 0009).
-- A phrase ("has shipped") is found in the GIN index by its words, then PostgreSQL rechecks the
-- word positions of every candidate in its vector. Out of line, each recheck looked the vector up
-- in the TOAST index and read its chunks: about five buffer visits a row. In the row it is one.
-- A vector of up to about 8 KB fits in a row; a longer one still goes out of line.
-- The vectors are not kept in the wide `message_search` rows: there they would spread the field
-- columns over eight times the pages and slow down their trigram rechecks (`to:`, `header:`).
CREATE TABLE message_words (
  seq BIGINT PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
  words TSVECTOR NOT NULL
);
ALTER TABLE message_words ALTER COLUMN words SET STORAGE MAIN;

-- Copying detoasts each stored vector and writes it into the new row.
INSERT INTO message_words (seq, words) SELECT seq, words FROM message_search;
CREATE INDEX message_words_words ON message_words USING GIN (words);

ALTER TABLE message_search DROP COLUMN words;
