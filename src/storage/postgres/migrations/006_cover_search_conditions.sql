-- A search driven from its index hits (list-sql.ts, compileDriven) fetches each hit's read flag
-- and tests the conditions that are not in a search index (has:, after:/before:, larger:/smaller:)
-- on `messages`. With only the read flag covered (migration 004), a negated `has:attachment` over
-- 6,000 hits read the heap row of each: about 20,000 buffer visits, 45 ms of an 80 ms request in
-- bench/inbox. Covering those columns too keeps the step an index-only scan (under 6 MB for
-- 100,000 messages). No update loses HOT: the read flag was covered already, the counts are set
-- by the parsing update, which changes indexed columns anyway (parse_state), and the rest never
-- change.
CREATE UNIQUE INDEX messages_seq_cover ON messages (seq)
  INCLUDE (read, attachment_count, inline_count, received_at, size);
DROP INDEX messages_seq_read;
