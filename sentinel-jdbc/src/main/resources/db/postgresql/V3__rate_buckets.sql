-- Sentinel schema 3 for PostgreSQL: the shared rate-limit buckets (PostgresRateLimiter, on
-- Bucket4j's advisory-lock proxy manager). Schema 2 databases may already have the table, which
-- the limiter used to create itself (without explicit_lock): hence IF NOT EXISTS.
-- id: the limit's key, as text. state: Bucket4j's serialized bucket.
-- expires_at: milliseconds (not microseconds, as elsewhere: Bucket4j's unit) since the epoch
-- after which the bucket has refilled to full, so deleting it changes nothing; the limiter's
-- periodic sweep deletes such rows so that the table does not grow without bound. NULL (rows
-- written before schema 3) until the bucket is next used.
-- explicit_lock: the advisory lock id of the key, so that the sweep can skip (with
-- pg_try_advisory_xact_lock) a bucket that a caller holds at that moment.

CREATE TABLE IF NOT EXISTS sentinel_rate_bucket (
  id            TEXT    NOT NULL PRIMARY KEY,
  state         BYTEA,
  expires_at    BIGINT,
  explicit_lock BIGINT
);

ALTER TABLE sentinel_rate_bucket ADD COLUMN IF NOT EXISTS explicit_lock BIGINT;
CREATE INDEX IF NOT EXISTS sentinel_rate_bucket_expires ON sentinel_rate_bucket (expires_at);
