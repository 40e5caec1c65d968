/**
 * Prometheus metrics of a gateway: {@link dev.sentinel.metrics.GatewayMetrics} counts governed
 * calls (from the pipeline's audit events), reads backend, audit and config state at scrape time,
 * and renders the Prometheus text or OpenMetrics format. {@code sentinel http} serves it at {@code
 * /metrics}; any other runner or application on a {@code GatewayRuntime} binds it the same way and
 * serves {@link dev.sentinel.metrics.GatewayMetrics#scrape} where it likes. Metric names and labels
 * are documented in docs/http.md.
 */
@NullMarked
package dev.sentinel.metrics;

import org.jspecify.annotations.NullMarked;
