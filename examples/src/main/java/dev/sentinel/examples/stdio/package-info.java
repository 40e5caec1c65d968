/**
 * The {@code sentinel stdio} demo: {@link dev.sentinel.examples.stdio.NotesServer}, a small MCP
 * server on the official MCP Java SDK, which {@code examples/stdio/sentinel.yaml} puts behind the
 * gateway, and {@link dev.sentinel.examples.stdio.StdioDemo}, a scripted client session that shows
 * an allowed call, denials with their reasons, a rate limit and the audit record.
 */
@NullMarked
package dev.sentinel.examples.stdio;

import org.jspecify.annotations.NullMarked;
