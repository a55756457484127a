-- 1. The update trigger of migration 003 joined its two transition tables on seq to find rows whose
--    read flag changed. Transition tables have no index and no statistics, so the join ran as a
--    nested loop: harmless for a parse batch, but marking 100,000 messages read took over a quarter
--    of an hour. An UPDATE's old and new rows are the same rows, so the change in unread messages
--    is simply unread-after minus unread-before, two scans and no join.
-- 2. Counting the matches of a search needs each match's read flag. Through the primary key that
--    is an index probe plus a heap visit per match; this covering index answers it from the index
--    alone (an index-only scan, once vacuum has marked the pages all-visible).
CREATE OR REPLACE FUNCTION mailbox_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta BIGINT;
BEGIN
  SELECT (SELECT count(*) FROM new_rows WHERE NOT read) - (SELECT count(*) FROM old_rows WHERE NOT read)
    INTO delta;
  IF delta <> 0 THEN
    UPDATE mailbox_counts SET unread = unread + delta WHERE shard = pg_backend_pid() % 16;
  END IF;
  RETURN NULL;
END $$;

CREATE UNIQUE INDEX messages_seq_read ON messages (seq) INCLUDE (read);
