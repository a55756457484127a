-- Substring searches on address fields, subject and message-id through a trigram index (FTS5's
-- trigram tokenizer matches any substring of three characters or more) instead of scanning every
-- row; shorter values still scan. Filled from message_search, which already holds normalised text.
CREATE VIRTUAL TABLE message_fields USING fts5 (
  s_from,
  s_to,
  s_cc,
  s_bcc,
  s_reply_to,
  s_subject,
  s_message_id,
  content = '',
  contentless_delete = 1,
  tokenize = 'trigram case_sensitive 1'
);
INSERT INTO message_fields (rowid, s_from, s_to, s_cc, s_bcc, s_reply_to, s_subject, s_message_id)
SELECT seq, s_from, s_to, s_cc, s_bcc, s_reply_to, s_subject, s_message_id FROM message_search;
