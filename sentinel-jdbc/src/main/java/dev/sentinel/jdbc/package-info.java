/**
 * Sentinel's stores on a relational database, through Jdbi: SQLite (a file, the embedded default)
 * and PostgreSQL (shared by the replicas of a gateway).
 *
 * <p>{@link dev.sentinel.jdbc.Database} opens a database and brings its schema up to date; stores
 * such as {@link dev.sentinel.jdbc.JdbcKeyStore} and {@link dev.sentinel.jdbc.JdbcAuditSink} are
 * built on an open database. The audit trail is verified by {@link
 * dev.sentinel.jdbc.AuditVerifier}, purged by {@link dev.sentinel.jdbc.AuditRetention} and read by
 * {@link dev.sentinel.jdbc.AuditQuery}, and anchored outside the database by its head ({@link
 * dev.sentinel.jdbc.AuditVerifier#head}) and signed {@link dev.sentinel.jdbc.AuditCheckpoints}, which
 * {@link dev.sentinel.jdbc.AuditAnchors} check it against. Failures are {@link
 * dev.sentinel.jdbc.DatabaseException}s whose messages name the database without its password.
 */
@NullMarked
package dev.sentinel.jdbc;

import org.jspecify.annotations.NullMarked;
