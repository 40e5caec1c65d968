-- Sentinel schema 4 for PostgreSQL: the approval queue of confirm rules (JdbcApprovalStore).
-- One row per held call. digest binds an approval to the exact call (principal, method, backend,
-- name, arguments, policy revision); approvers is a JSON array of principal ids, in order.
-- status: PENDING, APPROVED, DENIED or USED (EXPIRED is computed from expires_at). Times are
-- microseconds since the epoch, as elsewhere.

CREATE TABLE sentinel_approval (
  id          TEXT    NOT NULL PRIMARY KEY,
  principal   TEXT    NOT NULL,
  backend     TEXT,
  method      TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  arguments   TEXT    NOT NULL,
  digest      TEXT    NOT NULL,
  rule        TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  revision    TEXT    NOT NULL,
  created_at  BIGINT  NOT NULL,
  expires_at  BIGINT  NOT NULL,
  quorum      INTEGER NOT NULL,
  approvers   TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  decided_by  TEXT,
  note        TEXT,
  used_at     BIGINT
);

CREATE INDEX sentinel_approval_call ON sentinel_approval (principal, digest);
CREATE INDEX sentinel_approval_created ON sentinel_approval (created_at);
