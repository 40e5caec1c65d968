-- Sentinel schema 1 for SQLite: API keys, the audit trail, the kill switch.
-- Every time is microseconds since 1970-01-01T00:00:00Z (UTC) in an INTEGER column.
-- Statements end with ';' at the end of a line; applied in one transaction with the
-- sentinel_schema row that records it.

CREATE TABLE sentinel_api_keys (
  id         TEXT    NOT NULL PRIMARY KEY,
  hash       TEXT    NOT NULL,
  principal  TEXT    NOT NULL,
  roles      TEXT    NOT NULL,  -- JSON array of strings, sorted
  name       TEXT    NOT NULL DEFAULT '',
  created    INTEGER NOT NULL,
  expires    INTEGER,
  revoked    INTEGER,
  last_used  INTEGER
);

CREATE INDEX sentinel_api_keys_principal ON sentinel_api_keys (principal);

-- One row per audit event. seq is the position in this store's hash chain, assigned by the
-- writer (head + 1, under the chain's lock), never reused: a gap is a removed record.
-- event holds the exact bytes that were hashed (canonical JSON); the other columns copy
-- fields out of it for filtering and are not part of the hash.
-- hash = H(prev_hash || event); prev_hash of the first record is the chain's base_hash.
CREATE TABLE sentinel_audit (
  seq        INTEGER NOT NULL PRIMARY KEY,
  id         TEXT    NOT NULL UNIQUE,
  time       INTEGER NOT NULL,
  principal  TEXT,
  session    TEXT,
  method     TEXT,
  backend    TEXT,
  tool       TEXT,
  outcome    TEXT    NOT NULL,
  rule       TEXT,              -- the rule id that decided, if any
  instance   TEXT,              -- the gateway instance that wrote it
  event      TEXT    NOT NULL,
  prev_hash  TEXT    NOT NULL,
  hash       TEXT    NOT NULL
);

CREATE INDEX sentinel_audit_time ON sentinel_audit (time);
CREATE INDEX sentinel_audit_principal_time ON sentinel_audit (principal, time);
CREATE INDEX sentinel_audit_tool_time ON sentinel_audit (tool, time);
CREATE INDEX sentinel_audit_outcome_time ON sentinel_audit (outcome, time);
CREATE INDEX sentinel_audit_rule_time ON sentinel_audit (rule, time);

-- The state of each hash chain (one per store; the name is 'audit' unless configured).
-- head_*: the last record appended; writers lock this row, append head_seq + 1, update it.
-- base_*: the record just before the oldest one kept; retention moves it forward when it
-- purges, so verification of what remains starts from a known hash.
CREATE TABLE sentinel_audit_chain (
  name       TEXT    NOT NULL PRIMARY KEY,
  head_seq   INTEGER NOT NULL,
  head_hash  TEXT    NOT NULL,
  base_seq   INTEGER NOT NULL,
  base_hash  TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Kill switch entries. scope: ALL, BACKEND, TOOL (target is a glob) or PRINCIPAL; target is
-- '' for ALL. Clearing an entry sets active = 0 rather than deleting it, so replicas re-reading
-- the table (on NOTIFY, or polling as a fallback) see both setting and clearing.
CREATE TABLE sentinel_kill_switch (
  scope      TEXT    NOT NULL,
  target     TEXT    NOT NULL,
  active     INTEGER NOT NULL DEFAULT 1,
  reason     TEXT    NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, target)
);

CREATE INDEX sentinel_kill_switch_updated ON sentinel_kill_switch (updated_at);
