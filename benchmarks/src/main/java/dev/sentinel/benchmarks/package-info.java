/**
 * JMH benchmarks of Sentinel's hot path, each beside a baseline so that the overhead shows as a
 * difference measured in the same run (run them with {@code benchmarks/run}), the end-to-end
 * harness of the stdio gateway, {@link dev.sentinel.benchmarks.StdioGatewayBench} (run it with
 * {@code benchmarks/stdio-bench}), and that of the HTTP gateway,
 * {@link dev.sentinel.benchmarks.HttpGatewayBench} with its load generator {@code HttpLoad}
 * (run it with {@code benchmarks/http-bench}); see BENCHMARKS.md.
 */
package dev.sentinel.benchmarks;
