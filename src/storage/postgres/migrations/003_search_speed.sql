-- Search at 100,000 messages and beyond (bench/inbox):
-- 1. Substring searches on fields and headers use trigram indexes instead of scanning every row.
-- 2. Mailbox totals come from a small counter table kept by statement-level triggers, instead of
--    count(*) over every message on each list request. Each statement adds its delta to one of 16
--    rows, chosen by the connection (so one transaction always touches the same row and two
--    transactions cannot deadlock on them), so concurrent writers rarely wait on each other.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX message_search_from_trgm ON message_search USING GIN (s_from gin_trgm_ops);
CREATE INDEX message_search_to_trgm ON message_search USING GIN (s_to gin_trgm_ops);
CREATE INDEX message_search_cc_trgm ON message_search USING GIN (s_cc gin_trgm_ops);
CREATE INDEX message_search_bcc_trgm ON message_search USING GIN (s_bcc gin_trgm_ops);
CREATE INDEX message_search_reply_to_trgm ON message_search USING GIN (s_reply_to gin_trgm_ops);
CREATE INDEX message_search_subject_trgm ON message_search USING GIN (s_subject gin_trgm_ops);
CREATE INDEX message_search_message_id_trgm ON message_search USING GIN (s_message_id gin_trgm_ops);
CREATE INDEX message_search_headers_trgm ON message_search USING GIN (s_headers gin_trgm_ops);

CREATE TABLE mailbox_counts (
  shard SMALLINT PRIMARY KEY,
  total BIGINT NOT NULL DEFAULT 0,
  unread BIGINT NOT NULL DEFAULT 0,
  bytes BIGINT NOT NULL DEFAULT 0
);
INSERT INTO mailbox_counts (shard, total, unread, bytes)
SELECT s, CASE WHEN s = 0 THEN (SELECT count(*) FROM messages) ELSE 0 END,
          CASE WHEN s = 0 THEN (SELECT count(*) FROM messages WHERE NOT read) ELSE 0 END,
          CASE WHEN s = 0 THEN (SELECT coalesce(sum(size), 0) FROM messages) ELSE 0 END
FROM generate_series(0, 15) AS s;

CREATE FUNCTION mailbox_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mailbox_counts SET
    total = total + (SELECT count(*) FROM new_rows),
    unread = unread + (SELECT count(*) FROM new_rows WHERE NOT read),
    bytes = bytes + (SELECT coalesce(sum(size), 0) FROM new_rows)
  WHERE shard = pg_backend_pid() % 16;
  RETURN NULL;
END $$;

CREATE FUNCTION mailbox_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mailbox_counts SET
    total = total - (SELECT count(*) FROM old_rows),
    unread = unread - (SELECT count(*) FROM old_rows WHERE NOT read),
    bytes = bytes - (SELECT coalesce(sum(size), 0) FROM old_rows)
  WHERE shard = pg_backend_pid() % 16;
  RETURN NULL;
END $$;

CREATE FUNCTION mailbox_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta BIGINT;
BEGIN
  SELECT coalesce(sum(CASE WHEN n.read THEN 0 ELSE 1 END - CASE WHEN o.read THEN 0 ELSE 1 END), 0)
    INTO delta
    FROM new_rows n JOIN old_rows o USING (seq)
    WHERE n.read IS DISTINCT FROM o.read;
  IF delta <> 0 THEN
    UPDATE mailbox_counts SET unread = unread + delta WHERE shard = pg_backend_pid() % 16;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_count_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mailbox_counts_insert();
CREATE TRIGGER messages_count_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION mailbox_counts_delete();
CREATE TRIGGER messages_count_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION mailbox_counts_update();

-- has:attachment and has:inline count and page through small partial indexes instead of a scan.
CREATE INDEX messages_with_attachments ON messages (seq) WHERE attachment_count > 0;
CREATE INDEX messages_with_inline ON messages (seq) WHERE inline_count > 0;
