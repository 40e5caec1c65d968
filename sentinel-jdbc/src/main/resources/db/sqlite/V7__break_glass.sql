-- Sentinel schema 7 for SQLite: break-glass windows and TOTP enrolments
-- (JdbcBreakGlassStore), shared by every gateway on the database.
-- sentinel_break_glass: one row per window. closed_by/closed_at stay NULL until an operator closes
-- it early or a gateway closes it after expires_at (closed_by 'expiry'). Times are microseconds
-- since the epoch, UTC, as elsewhere.
-- sentinel_totp: one row per enrolled principal. secret is the base64 TOTP secret (whoever reads
-- it can open the principal's windows: guard the database as the API keys' table).
-- last_step: the TOTP step of the last code accepted (each code is good once). failures: wrong
-- codes in a row; locked_until: codes refused until then.

CREATE TABLE sentinel_break_glass (
  id          TEXT    NOT NULL PRIMARY KEY,
  principal   TEXT    NOT NULL,
  opened_by   TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  opened_at   BIGINT  NOT NULL,
  expires_at  BIGINT  NOT NULL,
  closed_by   TEXT,
  closed_at   BIGINT
);

CREATE INDEX sentinel_break_glass_open ON sentinel_break_glass (closed_at, opened_at);

CREATE TABLE sentinel_totp (
  principal     TEXT    NOT NULL PRIMARY KEY,
  secret        TEXT    NOT NULL,
  enrolled_at   BIGINT  NOT NULL,
  last_step     BIGINT  NOT NULL,
  failures      INTEGER NOT NULL,
  locked_until  BIGINT
);
