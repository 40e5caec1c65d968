-- Sentinel schema 6 for SQLite: tool-definition pins (JdbcPinStore). One row per backend tool
-- (tool: its name as the backend lists it).
-- digest/definition: the approved definition's SHA-256 and canonical JSON; NULL when none is
-- approved yet (first seen with hidden instructions that the config blocks).
-- pending_digest/pending_definition: a listed definition that differs, held for an operator.
-- rejected: 1 when an operator rejected the pending definition (it stays held).
-- updated_at: microseconds since the epoch, UTC. updated_by: first-use, gateway or an operator.

CREATE TABLE sentinel_tool_pin (
  backend            TEXT    NOT NULL,
  tool               TEXT    NOT NULL,
  digest             TEXT,
  definition         TEXT,
  pending_digest     TEXT,
  pending_definition TEXT,
  rejected           INTEGER NOT NULL DEFAULT 0,
  updated_at         INTEGER NOT NULL,
  updated_by         TEXT    NOT NULL,
  PRIMARY KEY (backend, tool)
);
