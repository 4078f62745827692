package io.cachet.testkit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.testkit.ServerMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.opentest4j.TestAbortedException;

final class ServerSelectionTest {
    private static final String PRESENT_CLASS = "org.testcontainers.containers.GenericContainer";

    private final Map<String, String> properties = new HashMap<>();
    private final List<Duration> probes = new ArrayList<>();

    private ServerSelection selection(boolean dockerAnswers) {
        return new ServerSelection(properties::get, timeout -> {
            probes.add(timeout);
            return dockerAnswers;
        });
    }

    @Test
    void useContainer_propertyUnset_processWithoutProbing() {
        assertThat(selection(true).useContainer("Redis", PRESENT_CLASS, "org.testcontainers:testcontainers")).isFalse();
        assertThat(probes).isEmpty();
    }

    @Test
    void useContainer_process_neverProbesNorNeedsTestcontainers() {
        properties.put(ServerMode.PROPERTY, "process");
        ServerSelection selection = new ServerSelection(properties::get, timeout -> {
            throw new AssertionError("probed Docker in process mode");
        });

        assertThat(selection.useContainer("Redis", "no.such.Container", "org.example:none")).isFalse();
    }

    @Test
    void useContainer_testcontainersWithDocker_container() {
        properties.put(ServerMode.PROPERTY, "testcontainers");

        assertThat(selection(true).useContainer("Redis", PRESENT_CLASS, "org.testcontainers:testcontainers")).isTrue();
        assertThat(probes).containsExactly(ServerSelection.DEFAULT_DOCKER_TIMEOUT);
    }

    @Test
    void useContainer_testcontainersWithoutDocker_skipsWithReason() {
        properties.put(ServerMode.PROPERTY, "testcontainers");

        assertThatThrownBy(() -> selection(false).useContainer("Redis", PRESENT_CLASS, "org.testcontainers:testcontainers"))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("Redis not started, so these tests are skipped")
                .hasMessageContaining("cachet.testkit.servers=testcontainers runs it in a container")
                .hasMessageContaining("no Docker engine answered (waited up to 30 s, cachet.testkit.docker.timeoutSeconds)")
                .hasMessageContaining("cachet.testkit.servers=process (the default), which needs none");
    }

    @Test
    void condition_process_enabledWithoutProbing() {
        assertThat(selection(false).condition("Redis", "no.such.Container", "org.example:none").isDisabled()).isFalse();
        assertThat(probes).isEmpty();
    }

    @Test
    void condition_testcontainersWithoutDocker_disabledWithReason() {
        properties.put(ServerMode.PROPERTY, "testcontainers");

        ConditionEvaluationResult result = selection(false).condition("a Kafka broker",
                PRESENT_CLASS, "org.testcontainers:testcontainers-kafka");

        assertThat(result.isDisabled()).isTrue();
        assertThat(result.getReason()).get().asString()
                .startsWith("a Kafka broker not started, so these tests are skipped: "
                        + "cachet.testkit.servers=testcontainers runs it in a container, but no Docker engine answered");
    }

    @Test
    void condition_testcontainersWithDocker_enabled() {
        properties.put(ServerMode.PROPERTY, "testcontainers");

        assertThat(selection(true).condition("Redis", PRESENT_CLASS, "org.testcontainers:testcontainers").isDisabled())
                .isFalse();
        assertThat(probes).hasSize(1);
    }

    @Test
    void useContainer_testcontainersMissingFromClassPath_namesTheArtifact() {
        properties.put(ServerMode.PROPERTY, "testcontainers");

        assertThatThrownBy(() -> selection(true).useContainer("a Kafka broker", "no.such.KafkaContainer",
                        "org.testcontainers:testcontainers-kafka"))
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessage("cachet.testkit.servers=testcontainers runs a Kafka broker in a container, which needs "
                        + "org.testcontainers:testcontainers-kafka on the test class path: add it (test scope), or "
                        + "drop the property to run processes");
        assertThat(probes).isEmpty();
    }

    @Test
    void useContainer_unknownMode_namesPropertyAndAcceptedValues() {
        properties.put(ServerMode.PROPERTY, "docker");

        assertThatThrownBy(() -> selection(true).useContainer("Redis", PRESENT_CLASS, "org.testcontainers:testcontainers"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cachet.testkit.servers must be one of process, testcontainers, was 'docker'");
        assertThat(probes).isEmpty();
    }

    @Test
    void dockerTimeout_fromProperty() {
        properties.put(ServerMode.PROPERTY, "testcontainers");
        properties.put(ServerSelection.DOCKER_TIMEOUT_PROPERTY, " 5 ");

        selection(true).useContainer("Redis", PRESENT_CLASS, "org.testcontainers:testcontainers");

        assertThat(probes).containsExactly(Duration.ofSeconds(5));
    }

    @Test
    void dockerTimeout_notAPositiveWholeNumber_namesProperty() {
        for (String bad : List.of("0", "-3", "1.5", "PT5S", "ten")) {
            properties.put(ServerSelection.DOCKER_TIMEOUT_PROPERTY, bad);

            assertThatThrownBy(() -> selection(true).dockerTimeout())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("cachet.testkit.docker.timeoutSeconds must be a whole number of seconds > 0, was '"
                            + bad + "'");
        }
    }

    @Test
    void images_defaultAndOverridden() {
        ServerSelection selection = selection(true);
        assertThat(selection.redisImage()).isEqualTo("redis:7");
        assertThat(selection.kafkaImage()).isEqualTo(ServerSelection.DEFAULT_KAFKA_IMAGE).startsWith("apache/kafka:");

        properties.put(ServerSelection.REDIS_IMAGE_PROPERTY, "redis:7.4-alpine");
        properties.put(ServerSelection.KAFKA_IMAGE_PROPERTY, " apache/kafka-native:4.1.0 ");

        assertThat(selection.redisImage()).isEqualTo("redis:7.4-alpine");
        assertThat(selection.kafkaImage()).isEqualTo("apache/kafka-native:4.1.0");
    }

    @Test
    void testcontainersProbe_answersWithinItsTimeout() {
        // The real probe: true where a Docker engine answers, false elsewhere (as on a machine with
        // only the Docker client); either way it answers, and the same way twice.
        boolean first = DockerProbe.testcontainers().isDockerAvailable(Duration.ofSeconds(30));

        assertThat(DockerProbe.testcontainers().isDockerAvailable(Duration.ofSeconds(30))).isEqualTo(first);
    }
}
