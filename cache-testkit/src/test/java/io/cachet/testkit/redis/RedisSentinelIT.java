package io.cachet.testkit.redis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("redis")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
final class RedisSentinelIT {
    @RegisterExtension
    static final RedisSentinelExtension SENTINEL = new RedisSentinelExtension();

    @Test
    @Order(1)
    void start_sentinelsMonitorThePrimaryAndItsReplica(RedisSentinel sentinel) {
        assertThat(sentinel.sentinels()).hasSize(3).allMatch(RedisServer::isRunning);
        assertThat(sentinel.dataNodes()).hasSize(2);
        RedisServer primary = sentinel.primary();
        assertThat(primary).isSameAs(sentinel.dataNodes().get(0));
        assertThat(sentinel.uri()).startsWith("redis-sentinel://127.0.0.1:").endsWith("#" + RedisSentinel.MASTER_NAME);

        primary.command("SET", "k", "v");
        sentinel.awaitReady();
        RedisServer replica = sentinel.dataNodes().get(1);
        org.awaitility.Awaitility.await().until(() -> "v".equals(replica.command("GET", "k")));
    }

    // After the failover on request: a replica restarted by the kill test is not yet a candidate
    // for the Sentinels (they refresh a new replica's INFO every 10 s), which made this wait.
    @Test
    @Order(3)
    void kill_primary_sentinelsPromoteTheReplica_restartRejoinsAsReplica(RedisSentinel sentinel) {
        RedisServer old = sentinel.primary();

        old.kill();
        RedisServer promoted = sentinel.awaitFailover(old);

        assertThat(promoted).isNotSameAs(old);
        assertThat(promoted.command("GET", "k")).isEqualTo("v");

        old.start();
        sentinel.awaitReady();
        // The Sentinels turn the restarted node into a replica a moment after it comes back.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
            .until(() -> ((String) old.command("INFO", "replication")).contains("role:slave"));
        assertThat(sentinel.primary()).isSameAs(promoted);
    }

    @Test
    @Order(2)
    void failover_onRequest_swapsRoles(RedisSentinel sentinel) {
        RedisServer before = sentinel.primary();

        RedisServer after = sentinel.failover();

        assertThat(after).isNotSameAs(before);
        assertThat((String) before.command("INFO", "replication")).contains("role:slave");
    }
}
