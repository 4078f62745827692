package io.cachet.testkit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.cachet.servers.RedisBinary;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("redis")
final class RedisServerIT {
    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    @AfterEach
    void restartIfStopped() {
        if (!REDIS.server().isRunning()) {
            REDIS.server().start();
        }
    }

    @Test
    void start_answersPing() {
        RedisServer redis = REDIS.server();

        assertThat(redis.isRunning()).isTrue();
        assertThat(redis.command("PING")).isEqualTo("PONG");
        assertThat(redis.host()).isEqualTo("127.0.0.1");
        assertThat(redis.address()).isEqualTo("127.0.0.1:" + redis.port());
        assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + redis.port());
    }

    @Test
    void command_setGetDel() {
        RedisServer redis = REDIS.server();

        assertThat(redis.command("SET", "greeting", "héllo")).isEqualTo("OK");
        assertThat(redis.command("GET", "greeting")).isEqualTo("héllo");
        assertThat(redis.command("DEL", "greeting")).isEqualTo(1L);
        assertThat(redis.command("GET", "greeting")).isNull();
    }

    @Test
    void command_errorReply() {
        assertThatThrownBy(() -> REDIS.server().command("NO-SUCH-COMMAND"))
                .isInstanceOf(RespErrorException.class)
                .hasMessageStartingWith("ERR");
    }

    @Test
    void command_configGet() {
        RedisServer redis = REDIS.server();

        assertThat(redis.command("CONFIG", "GET", "port"))
                .isEqualTo(List.of("port", Integer.toString(redis.port())));
    }

    @Test
    void stopThenStart_samePort() {
        RedisServer redis = REDIS.server();
        int port = redis.port();
        redis.command("SET", "k", "v");

        redis.stop();
        assertThat(redis.isRunning()).isFalse();
        assertThatThrownBy(() -> redis.command("PING")).isInstanceOf(UncheckedIOException.class);

        redis.start();
        assertThat(redis.port()).isEqualTo(port);
        assertThat(redis.command("PING")).isEqualTo("PONG");
        assertThat(redis.command("GET", "k")).as("no persistence").isNull();
    }

    @Test
    void killThenStart_samePort() {
        RedisServer redis = REDIS.server();
        int port = redis.port();

        redis.kill();
        assertThat(redis.isRunning()).isFalse();

        redis.start();
        assertThat(redis.port()).isEqualTo(port);
        assertThat(redis.command("PING")).isEqualTo("PONG");
    }

    @Test
    void start_whenRunning() {
        assertThatThrownBy(() -> REDIS.server().start()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void clientKill_closesTheOtherConnection() {
        try (RespConnection victim = REDIS.server().connect()) {
            Object id = victim.command("CLIENT", "ID");

            assertThat(REDIS.server().command("CLIENT", "KILL", "ID", id.toString())).isEqualTo(1L);
            assertThatThrownBy(() -> victim.command("PING")).isInstanceOf(UncheckedIOException.class);
        }
    }

    @Test
    void clientTracking_resp3InvalidatesOnWrite() {
        RedisServer redis = REDIS.server();
        redis.command("SET", "tracked", "v1");
        try (RespConnection tracking = redis.connect()) {
            Object hello = tracking.command("HELLO", "3");
            assertThat(hello).asInstanceOf(InstanceOfAssertFactories.MAP).containsEntry("proto", 3L);
            assertThat(tracking.command("CLIENT", "TRACKING", "on")).isEqualTo("OK");
            assertThat(tracking.command("GET", "tracked")).isEqualTo("v1");

            redis.command("SET", "tracked", "v2");

            assertThat(tracking.nextMessage(Duration.ofSeconds(10)))
                    .isEqualTo(List.of("invalidate", List.of("tracked")));
        }
    }

    @Test
    void clientTracking_resp2RedirectInBcastMode() {
        RedisServer redis = REDIS.server();
        try (RespConnection subscriber = redis.connect();
                RespConnection tracking = redis.connect()) {
            Object subscriberId = subscriber.command("CLIENT", "ID");
            assertThat(subscriber.command("SUBSCRIBE", "__redis__:invalidate"))
                    .isEqualTo(List.of("subscribe", "__redis__:invalidate", 1L));
            assertThat(tracking.command("CLIENT", "TRACKING", "on", "REDIRECT", subscriberId.toString(),
                    "BCAST", "PREFIX", "bc:")).isEqualTo("OK");

            redis.command("SET", "bc:key", "v");

            assertThat(subscriber.nextMessage(Duration.ofSeconds(10)))
                    .isEqualTo(List.of("message", "__redis__:invalidate", List.of("bc:key")));
        }
    }

    @Test
    void create_fromPath() {
        assumeThat(RedisBinary.onPath()).as("redis-server on the PATH").isPresent();
        try (RedisServer redis = RedisServer.create(RedisBinary.PATH).start()) {
            assertThat(redis.command("PING")).isEqualTo("PONG");
            assertThat(redis.executable()).isEqualTo(RedisBinary.onPath().orElseThrow());
        }
    }
}
