-- Sentinel schema 9 for PostgreSQL: what gateways on the database share for the requestState of
-- MCP 2026-07-28 multi round-trip requests (JdbcRequestStateLedger).
-- sentinel_secret: named secrets the gateways make once and share; request_state_key is the
-- base64 HMAC key that signs the states (made by the first gateway that needs it).
-- sentinel_request_state: the nonces of redeemed states, each kept until its state expires
-- (expires_at: microseconds since the epoch, UTC), so a state is accepted once on any gateway.

CREATE TABLE sentinel_secret (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE sentinel_request_state (
  nonce      TEXT   PRIMARY KEY,
  expires_at BIGINT NOT NULL
);

CREATE INDEX sentinel_request_state_expires ON sentinel_request_state (expires_at);
