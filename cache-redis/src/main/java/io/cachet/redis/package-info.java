/**
 * The {@code redis} backend: Redis is the source of truth, read through a near cache that Redis
 * server-assisted invalidation keeps coherent.
 *
 * <p>Select it with {@code CacheConfig.builder(name).backend("redis")} and configure it with
 * {@link io.cachet.redis.RedisOptions}. Keys are stored as plain Redis strings
 * ({@code GET}/{@code SET PX}/{@code PEXPIRE}/{@code DEL}) under an optional prefix, so any other
 * Redis client can read and write them. See {@code docs/redis.md} for the guarantees.
 */
@NullMarked
package io.cachet.redis;

import org.jspecify.annotations.NullMarked;
