/**
 * Shared state on Redis or Valkey: {@link dev.sentinel.redis.RedisStores} keeps the shared rate
 * limits in Redis (Bucket4j's Lettuce integration) and announces kill-switch changes on a Redis
 * channel, around the database's stores, which keep the API keys and the audit trail.
 */
@NullMarked
package dev.sentinel.redis;

import org.jspecify.annotations.NullMarked;
