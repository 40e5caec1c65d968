-- Sentinel schema 5 for PostgreSQL: the audit trail partitioned by month on its time, so that
-- retention drops whole months and queries over a time range read only its months (see
-- docs/audit.md, "Partitions on PostgreSQL"). The table of schema 3 is kept as it is, renamed
-- sentinel_audit_legacy; after these statements the migration (AuditPartitions.migrate) attaches
-- it as the partition of every time up to the month after its newest record (or drops it when it
-- is empty) and creates this month's partition and the next two.
-- The key is (seq, time): a partitioned table's unique keys must hold the partition key. seq
-- stays unique: writers assign it under the chain's lock, and verify finds a duplicate.

ALTER TABLE sentinel_audit RENAME TO sentinel_audit_legacy;
-- Its key on seq alone gives way to the parent's (seq, time), which attaching builds.
ALTER TABLE sentinel_audit_legacy DROP CONSTRAINT sentinel_audit_pkey;
ALTER INDEX sentinel_audit_id RENAME TO sentinel_audit_legacy_id;
ALTER INDEX sentinel_audit_time RENAME TO sentinel_audit_legacy_time;
ALTER INDEX sentinel_audit_principal_time RENAME TO sentinel_audit_legacy_principal_time;
ALTER INDEX sentinel_audit_tool_time RENAME TO sentinel_audit_legacy_tool_time;
ALTER INDEX sentinel_audit_outcome_time RENAME TO sentinel_audit_legacy_outcome_time;
ALTER INDEX sentinel_audit_rule_time RENAME TO sentinel_audit_legacy_rule_time;

-- The same columns, in the same order, as the old table: what attaching it needs.
CREATE TABLE sentinel_audit (LIKE sentinel_audit_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (time);
ALTER TABLE sentinel_audit ADD CONSTRAINT sentinel_audit_pkey PRIMARY KEY (seq, time);
CREATE INDEX sentinel_audit_id ON sentinel_audit (id);
CREATE INDEX sentinel_audit_time ON sentinel_audit (time);
CREATE INDEX sentinel_audit_principal_time ON sentinel_audit (principal, time);
CREATE INDEX sentinel_audit_tool_time ON sentinel_audit (tool, time);
CREATE INDEX sentinel_audit_outcome_time ON sentinel_audit (outcome, time);
CREATE INDEX sentinel_audit_rule_time ON sentinel_audit (rule, time);

-- Rows whose time no month partition covers (a clock far off) land here rather than fail;
-- housekeeping moves them into a partition of their month.
CREATE TABLE sentinel_audit_default PARTITION OF sentinel_audit DEFAULT;
