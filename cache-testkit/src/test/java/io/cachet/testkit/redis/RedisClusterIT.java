package io.cachet.testkit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("redis")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
final class RedisClusterIT {
    @RegisterExtension
    static final RedisClusterExtension CLUSTER = new RedisClusterExtension();

    @Test
    @Order(1)
    void start_formsThreePrimariesWithAReplicaEach(RedisCluster cluster) {
        assertThat(cluster.nodes()).hasSize(6);
        assertThat(cluster.primaries()).hasSize(3);
        assertThat(cluster.replicas()).hasSize(3);
        for (RedisServer node : cluster.nodes()) {
            assertThat((String) node.command("CLUSTER", "INFO")).contains("cluster_state:ok", "cluster_slots_assigned:16384");
        }
        assertThat(cluster.uri()).startsWith("redis-cluster://127.0.0.1:").contains(",");
    }

    @Test
    @Order(1)
    void nodesAndTheirBusPorts_lieBelowTheEphemeralRange(RedisCluster cluster) throws Exception {
        // Outgoing connections take ports from that range: a node's port or bus port among them
        // could be taken while the node is down, and its restart could not bind it.
        String range; // read by line: procfs reports a size that stops a whole-file read short
        try (java.io.BufferedReader reader = java.nio.file.Files.newBufferedReader(
                java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            range = reader.readLine();
        }
        int ephemeralLow = Integer.parseInt(range.trim().split("\\s+")[0]);
        for (RedisServer node : cluster.nodes()) {
            assertThat(node.port() + 10_000).as(node.address() + "'s bus port").isLessThan(ephemeralLow);
        }
    }

    @Test
    @Order(2)
    void primaryFor_servesTheKey_othersRedirect(RedisCluster cluster) {
        RedisServer owner = cluster.primaryFor("greeting");
        assertThat(owner.command("SET", "greeting", "hello")).isEqualTo("OK");

        RedisServer other = cluster.primaries().stream().filter(n -> n != owner).findFirst().orElseThrow();
        assertThatThrownBy(() -> other.command("GET", "greeting"))
                .isInstanceOf(RespErrorException.class)
                .hasMessageStartingWith("MOVED " + cluster.slotOf("greeting") + " " + owner.address());
    }

    @Test
    @Order(3)
    void migrateSlot_movesTheSlotAndItsKeys(RedisCluster cluster) {
        cluster.primaryFor("moving").command("SET", "moving", "v");
        int slot = cluster.slotOf("moving");
        RedisServer target = cluster.primaries().stream().filter(n -> n != cluster.primaryForSlot(slot)).findFirst().orElseThrow();

        cluster.migrateSlot(slot, target);

        assertThat(cluster.primaryForSlot(slot)).isSameAs(target);
        assertThat(target.command("GET", "moving")).isEqualTo("v");
    }

    @Test
    @Order(4)
    void kill_primary_promotesItsReplica_andRestartRejoinsAsReplica(RedisCluster cluster) {
        cluster.primaryFor("survivor").command("SET", "survivor", "v");
        RedisServer old = cluster.primaryFor("survivor");
        cluster.awaitHealthy(); // the replica has the key

        old.kill();
        cluster.awaitHealthy();

        RedisServer promoted = cluster.primaryFor("survivor");
        assertThat(promoted).isNotSameAs(old);
        assertThat(promoted.command("GET", "survivor")).isEqualTo("v");

        old.start();
        cluster.awaitHealthy();
        assertThat(cluster.replicas()).contains(old);
        assertThat(cluster.primaries()).hasSize(3);
        assertThat(List.copyOf(cluster.nodes())).allMatch(RedisServer::isRunning);
    }
}
