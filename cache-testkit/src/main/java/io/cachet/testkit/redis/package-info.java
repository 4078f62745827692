/**
 * A real Redis server for tests: {@link io.cachet.testkit.redis.RedisServer} starts one on
 * 127.0.0.1 and a free port, {@link io.cachet.testkit.redis.RedisServerExtension} (or
 * {@link io.cachet.testkit.redis.WithRedis}) runs one per test class, and
 * {@link io.cachet.testkit.redis.RespConnection} is a tiny RESP2/RESP3 client for a separate
 * plain connection.
 *
 * <p>The server binary is a {@code redis-server} found on the {@code PATH}, otherwise the Redis 6.2
 * binary bundled in {@code com.github.codemonstur:embedded-redis}; the system property
 * {@value io.cachet.testkit.redis.RedisServer#BINARY_PROPERTY} forces a choice
 * ({@code path}, {@code embedded} or the path of an executable). Nothing here needs Docker, unless
 * {@value io.cachet.testkit.ServerMode#PROPERTY}{@code =testcontainers} asks
 * {@link io.cachet.testkit.redis.RedisServerExtension} for a Redis container.
 */
@NullMarked
package io.cachet.testkit.redis;

import org.jspecify.annotations.NullMarked;
