package io.cachet.testkit.kafka;

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

/** How a Kafka test class ends when Testcontainers mode is selected but cannot run, with no broker started. */
final class KafkaBrokerExtensionModeTest {

    @Test
    void condition_testcontainersAndNoDockerEngine_skipsTheClassWithTheReason() {
        // The real probe, on a machine with no Docker engine (elsewhere this test is skipped).
        assumeThat(DockerProbe.testcontainers().isDockerAvailable(Duration.ofSeconds(30)))
                .as("a Docker engine answers here").isFalse();

        assertThat(EngineRuns.skipReason(InContainersWithRealProbe.class))
                .startsWith("a Kafka broker not started, so these tests are skipped: "
                        + "cachet.testkit.servers=testcontainers runs it in a container, but no Docker engine answered");
    }

    static final class InContainersWithRealProbe {
        @RegisterExtension
        static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension(null, new ServerSelection(
                Map.of(ServerMode.PROPERTY, "testcontainers")::get, DockerProbe.testcontainers()));

        @Test
        void neverRuns(KafkaBroker broker) {
            fail("ran without a broker");
        }
    }
}
