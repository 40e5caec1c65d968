-- Sentinel schema 2 for PostgreSQL: the audit trail for durable mode, and the chain's start.
-- In durable mode a request leaves two rows with the same id: the intent (outcome PENDING,
-- written before the backend sees the request) and the final record. So id is no longer unique.

ALTER TABLE sentinel_audit DROP CONSTRAINT sentinel_audit_id_key;
CREATE INDEX sentinel_audit_id ON sentinel_audit (id);

-- The one chain of this store, starting from seq 0 and the all-zero hash (see docs/audit.md).
INSERT INTO sentinel_audit_chain (name, head_seq, head_hash, base_seq, base_hash, updated_at)
  VALUES ('audit', 0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000', 0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000', 0)
  ON CONFLICT (name) DO NOTHING;
