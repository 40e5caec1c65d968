/**
 * Prometheus metrics of {@code sentinel http}: {@link dev.sentinel.runner.http.metrics.GatewayMetrics}
 * counts governed calls (from the pipeline's audit events), reads backend, audit and config state
 * at scrape time, and renders the Prometheus text or OpenMetrics format that the gateway serves at
 * {@code /metrics}. Metric names and labels are documented in docs/http.md.
 */
package dev.sentinel.runner.http.metrics;
