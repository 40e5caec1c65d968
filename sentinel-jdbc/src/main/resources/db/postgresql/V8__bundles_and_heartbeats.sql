-- Sentinel schema 8 for PostgreSQL: signed config bundles published for a fleet
-- (JdbcBundleStore) and the gateways' heartbeats, shared by every gateway on the database.
-- sentinel_bundle: one row per publish (sentinel bundle publish FILE --channel NAME); a channel's
-- head is its row with the highest id. bytes: the bundle file exactly as published; digest and
-- sequence are what parsing it found, for listing (a gateway verifies bytes, never these).
-- published_at: microseconds since the epoch, UTC. A publish also sends NOTIFY sentinel_bundle
-- with the channel as payload, delivered when its transaction commits.
-- sentinel_heartbeat: one row per gateway instance, replaced at each heartbeat: what it runs
-- (channel, digest, sequence, config revision) and the error of its last refused apply, if any.
-- started_at/seen_at: microseconds since the epoch, UTC.

CREATE TABLE sentinel_bundle (
  id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel       TEXT    NOT NULL,
  digest        TEXT    NOT NULL,
  sequence      BIGINT  NOT NULL,
  bytes         BYTEA   NOT NULL,
  published_at  BIGINT  NOT NULL,
  published_by  TEXT    NOT NULL
);

CREATE INDEX sentinel_bundle_head ON sentinel_bundle (channel, id);

CREATE TABLE sentinel_heartbeat (
  instance    TEXT    NOT NULL PRIMARY KEY,
  host        TEXT    NOT NULL,
  version     TEXT    NOT NULL,
  channel     TEXT,
  digest      TEXT,
  sequence    BIGINT,
  revision    TEXT    NOT NULL,
  last_error  TEXT,
  started_at  BIGINT  NOT NULL,
  seen_at     BIGINT  NOT NULL
);
