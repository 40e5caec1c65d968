/**
 * Sentinel's stores on a relational database, through Jdbi: SQLite (a file, the embedded default)
 * and PostgreSQL (shared by the replicas of a gateway).
 *
 * <p>{@link dev.sentinel.jdbc.Database} opens a database and brings its schema up to date; stores
 * such as {@link dev.sentinel.jdbc.JdbcKeyStore} are built on an open database. Failures are {@link
 * dev.sentinel.jdbc.DatabaseException}s whose messages name the database without its password.
 */
package dev.sentinel.jdbc;
