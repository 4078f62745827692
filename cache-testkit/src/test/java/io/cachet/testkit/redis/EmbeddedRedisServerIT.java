package io.cachet.testkit.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.servers.RedisBinary;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the binary bundled in embedded-redis even where a redis-server is on the PATH. */
@WithRedis(binary = RedisBinary.EMBEDDED)
final class EmbeddedRedisServerIT {

    @Test
    void start_runsTheBundledBinary(RedisServer redis) {
        assertThat(redis.executable().getFileName().toString()).startsWith("redis-server-");
        assertThat((String) redis.command("INFO", "server")).contains("redis_version:6.2");
        assertThat(redis.command("PING")).isEqualTo("PONG");
    }

    @Test
    void stopThenStart_samePort(RedisServer redis) {
        int port = redis.port();

        redis.stop();
        redis.start();

        assertThat(redis.port()).isEqualTo(port);
        assertThat(redis.command("SET", "k", "v")).isEqualTo("OK");
        assertThat(redis.command("GET", "k")).isEqualTo("v");
    }

    @Test
    void clientTracking_resp3InvalidatesOnWrite(RedisServer redis) {
        try (RespConnection tracking = redis.connect()) {
            tracking.command("HELLO", "3");
            assertThat(tracking.command("CLIENT", "TRACKING", "on", "BCAST")).isEqualTo("OK");

            redis.command("SET", "any", "v");

            assertThat(tracking.nextMessage(Duration.ofSeconds(10)))
                    .isEqualTo(List.of("invalidate", List.of("any")));
        }
    }
}
