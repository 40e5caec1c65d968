-- Sentinel schema 2 for SQLite: the audit trail for durable mode, and the chain's start.
-- In durable mode a request leaves two rows with the same id: the intent (outcome PENDING,
-- written before the backend sees the request) and the final record. So id is no longer unique;
-- SQLite cannot drop a constraint, so the table is rebuilt (no writer ever used schema 1's
-- table, but its rows, if any, are kept as they are).

CREATE TABLE sentinel_audit_v2 (
  seq        INTEGER NOT NULL PRIMARY KEY,
  id         TEXT    NOT NULL,
  time       INTEGER NOT NULL,
  principal  TEXT,
  session    TEXT,
  method     TEXT,
  backend    TEXT,
  tool       TEXT,
  outcome    TEXT    NOT NULL,
  rule       TEXT,
  instance   TEXT,
  event      TEXT    NOT NULL,
  prev_hash  TEXT    NOT NULL,
  hash       TEXT    NOT NULL
);

INSERT INTO sentinel_audit_v2 SELECT seq, id, time, principal, session, method, backend, tool, outcome, rule, instance, event, prev_hash, hash FROM sentinel_audit;
DROP TABLE sentinel_audit;
ALTER TABLE sentinel_audit_v2 RENAME TO sentinel_audit;

CREATE INDEX sentinel_audit_id ON sentinel_audit (id);
CREATE INDEX sentinel_audit_time ON sentinel_audit (time);
CREATE INDEX sentinel_audit_principal_time ON sentinel_audit (principal, time);
CREATE INDEX sentinel_audit_tool_time ON sentinel_audit (tool, time);
CREATE INDEX sentinel_audit_outcome_time ON sentinel_audit (outcome, time);
CREATE INDEX sentinel_audit_rule_time ON sentinel_audit (rule, time);

-- The one chain of this store, starting from seq 0 and the all-zero hash (see docs/audit.md).
INSERT INTO sentinel_audit_chain (name, head_seq, head_hash, base_seq, base_hash, updated_at)
  VALUES ('audit', 0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000', 0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000', 0)
  ON CONFLICT (name) DO NOTHING;
