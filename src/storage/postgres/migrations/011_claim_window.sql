-- Claims read due deliveries in this index's order and pass over domains at their limits: with
-- the domain in the index they do so without visiting each row.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, seq) INCLUDE (domain)
  WHERE state IN ('queued', 'deferred');
