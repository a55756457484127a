-- Claims read due deliveries in this index's order and pass over domains at their limits: the
-- domain in the index lets them do so without reading each row (seq is the rowid, named to keep
-- the order of ORDER BY next_attempt_at, seq).
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, seq, domain) WHERE state IN ('queued', 'deferred');
