/**
 * Sentinel for Spring AI: {@link dev.sentinel.springai.GovernedToolCallback} governs a tool's
 * calls, {@link dev.sentinel.springai.SentinelAutoConfiguration} builds the pipeline from
 * {@code sentinel.*} properties and governs every tool bean.
 */
@NullMarked
package dev.sentinel.springai;

import org.jspecify.annotations.NullMarked;
