/**
 * The {@code sentinel} command line: {@link dev.sentinel.cli.Main} and one class per top-level
 * subcommand ({@code stdio}, {@code config}, {@code policy}, {@code keys}, {@code audit},
 * {@code init} and {@code client}, which start from an MCP client's config; the HTTP gateway's
 * {@code http} joins the list in {@link dev.sentinel.cli.Main#subcommands}).
 *
 * <p>Exit codes: 0 success, 1 a failed check or test or an error, 2 a usage error. Command output
 * goes to stdout, errors and logs to stderr.
 */
@NullMarked
package dev.sentinel.cli;

import org.jspecify.annotations.NullMarked;
