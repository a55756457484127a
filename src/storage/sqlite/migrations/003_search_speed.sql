-- Substring searches on address fields, subject and message-id through a trigram index (FTS5's
-- trigram tokenizer matches any substring of three characters or more) instead of scanning every
-- row; shorter values still scan. Custom (X-) header lines are indexed too, as candidates for
-- `header:X-…:value`; the full header text stays unindexed (trace and signature headers would
-- multiply the index size). Filled from message_search, which already holds normalised text.
CREATE VIRTUAL TABLE message_fields USING fts5 (
  s_from,
  s_to,
  s_cc,
  s_bcc,
  s_reply_to,
  s_subject,
  s_message_id,
  s_xheaders,
  content = '',
  contentless_delete = 1,
  tokenize = 'trigram case_sensitive 1'
);
-- Existing rows are indexed when they are parsed again (migration 002 marked them pending).
INSERT INTO message_fields (rowid, s_from, s_to, s_cc, s_bcc, s_reply_to, s_subject, s_message_id, s_xheaders)
SELECT seq, s_from, s_to, s_cc, s_bcc, s_reply_to, s_subject, s_message_id, '' FROM message_search;

-- has:attachment and has:inline count and page through small partial indexes instead of a scan.
CREATE INDEX messages_with_attachments ON messages (seq) WHERE attachment_count > 0;
CREATE INDEX messages_with_inline ON messages (seq) WHERE inline_count > 0;

-- Date ranges count their matches and unread matches from the index alone.
DROP INDEX messages_received;
CREATE INDEX messages_received ON messages (received_at, read);
