package io.cachet.testkit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.cachet.testkit.EngineRuns;
import io.cachet.testkit.ServerMode;
import io.cachet.testkit.internal.DockerProbe;
import io.cachet.testkit.internal.ServerSelection;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.TestAbortedException;

/** How a Redis test class ends when Testcontainers mode is selected but cannot run, with no server started. */
final class RedisServerExtensionModeTest {

    @Test
    void condition_testcontainersAndNoDockerEngine_skipsTheClassWithTheReason() {
        // The real probe, on a machine with no Docker engine (elsewhere this test is skipped).
        assumeThat(DockerProbe.testcontainers().isDockerAvailable(Duration.ofSeconds(30)))
                .as("a Docker engine answers here").isFalse();

        assertThat(EngineRuns.skipReason(InContainersWithRealProbe.class))
                .startsWith("Redis not started, so these tests are skipped: "
                        + "cachet.testkit.servers=testcontainers runs it in a container, but no Docker engine answered");
    }

    @Test
    void condition_unknownMode_failsTheClassNamingTheProperty() {
        assertThat(EngineRuns.failureReason(UnknownMode.class))
                .rootCause()
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cachet.testkit.servers must be one of process, testcontainers, was 'docker'");
    }

    @Test
    void container_processOnlyOperations_skipWithReason() {
        RedisServer server = RedisServer.container("redis:7");
        try {
            for (Runnable call : new Runnable[] {server::stop, server::kill, server::executable, server::directory}) {
                try {
                    call.run();
                    fail("a process-only operation ran on a container");
                } catch (TestAbortedException e) {
                    assertThat(e).hasMessageContaining("needs a redis-server process, and this server is the container "
                            + "redis:7 (cachet.testkit.servers=testcontainers)");
                }
            }
            assertThat(server.isRunning()).isFalse();
        } finally {
            server.close();
        }
    }

    static final class InContainersWithRealProbe {
        @RegisterExtension
        static final RedisServerExtension REDIS = new RedisServerExtension(null, new ServerSelection(
                Map.of(ServerMode.PROPERTY, "testcontainers")::get, DockerProbe.testcontainers()));

        @Test
        void neverRuns() {
            fail("ran without a server");
        }
    }

    static final class UnknownMode {
        @RegisterExtension
        static final RedisServerExtension REDIS = new RedisServerExtension(null, new ServerSelection(
                Map.of(ServerMode.PROPERTY, "docker")::get, timeout -> true));

        @Test
        void neverRuns() {
            fail("ran without a server");
        }
    }
}
