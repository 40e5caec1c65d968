/**
 * JMH benchmarks of Sentinel's hot path, each beside a baseline so that the overhead shows as a
 * difference measured in the same run. Run them with {@code benchmarks/run}; see BENCHMARKS.md.
 */
package dev.sentinel.benchmarks;
