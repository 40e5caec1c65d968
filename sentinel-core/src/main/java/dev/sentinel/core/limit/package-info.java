/**
 * Rate limits: configured {@link dev.sentinel.core.limit.LimitRule}s applied together by
 * {@link dev.sentinel.core.limit.Limits} (all must pass, all-or-nothing), on token buckets held
 * by a {@link dev.sentinel.api.RateLimiter} such as the Bucket4j-backed
 * {@link dev.sentinel.core.limit.LocalRateLimiter}.
 */
@NullMarked
package dev.sentinel.core.limit;

import org.jspecify.annotations.NullMarked;
