-- Sentinel schema 10 for SQLite: rollouts of a channel's bundle to canary gateways, staged
-- bundles, and the heartbeats' call counters.
-- sentinel_bundle.staged: a bundle stored on its channel without becoming its head (sentinel
-- bundle publish FILE --channel NAME --staged), what a rollout gives its canaries. A channel's
-- head is its unstaged row with the highest id.
-- sentinel_rollout: one row per rollout (sentinel rollout start); a channel's current rollout is
-- its row with the highest id, and at most one per channel is 'started' (the partial unique
-- index). canaries: the canary instances, one per line. baseline: JSON, each live instance's
-- counters when it started ({"instance": [calls, denied, errors]}). previous_digest: the head when
-- it started. abort_on_error_rate: the canaries' error rate that aborts it automatically, or NULL.
-- Times: microseconds since the epoch, UTC. SQLite has no NOTIFY: gateways poll.
-- sentinel_heartbeat.calls/denied/errors: the governed calls each gateway ended since it started
-- following its channel, so that rollout status compares rates from this database alone.

ALTER TABLE sentinel_bundle ADD COLUMN staged INTEGER NOT NULL DEFAULT 0;

CREATE INDEX sentinel_bundle_digest ON sentinel_bundle (channel, digest);

CREATE TABLE sentinel_rollout (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  channel              TEXT    NOT NULL,
  digest               TEXT    NOT NULL,
  sequence             INTEGER  NOT NULL,
  canaries             TEXT    NOT NULL,
  state                TEXT    NOT NULL CHECK (state IN ('started', 'promoted', 'aborted')),
  previous_digest      TEXT,
  abort_on_error_rate  REAL,
  baseline             TEXT    NOT NULL,
  started_at           INTEGER  NOT NULL,
  started_by           TEXT    NOT NULL,
  ended_at             INTEGER,
  ended_by             TEXT,
  reason               TEXT
);

CREATE INDEX sentinel_rollout_channel ON sentinel_rollout (channel, id);

CREATE UNIQUE INDEX sentinel_rollout_started ON sentinel_rollout (channel)
  WHERE state = 'started';

ALTER TABLE sentinel_heartbeat ADD COLUMN calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sentinel_heartbeat ADD COLUMN denied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sentinel_heartbeat ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
