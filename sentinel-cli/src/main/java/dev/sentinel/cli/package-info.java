/**
 * The {@code sentinel} command line: {@link dev.sentinel.cli.Main} and one class per top-level
 * subcommand ({@code config}, {@code policy}; the gateways' {@code stdio} and {@code http} join
 * the list in {@link dev.sentinel.cli.Main#subcommands}).
 *
 * <p>Exit codes: 0 success, 1 a failed check or test or an error, 2 a usage error. Command output
 * goes to stdout, errors and logs to stderr.
 */
package dev.sentinel.cli;
