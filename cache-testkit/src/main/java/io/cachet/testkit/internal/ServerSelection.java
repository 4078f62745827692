package io.cachet.testkit.internal;

import static java.util.Objects.requireNonNull;

import io.cachet.testkit.ServerMode;
import java.time.Duration;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/**
 * Decides whether an extension runs its server as a process or in a container, from
 * {@value ServerMode#PROPERTY} and the properties below, read when a server is about to start.
 *
 * <p>In {@link ServerMode#TESTCONTAINERS} mode with no Docker engine answering, the test class is
 * skipped (a JUnit assumption fails) with a message that says why; Testcontainers missing from the
 * class path is a configuration error. Thread-safe.
 */
public final class ServerSelection {
    /** The system property naming the Redis image, {@value #DEFAULT_REDIS_IMAGE} by default. */
    public static final String REDIS_IMAGE_PROPERTY = "cachet.testkit.redis.image";
    /** The Redis image when {@value #REDIS_IMAGE_PROPERTY} is not set. */
    public static final String DEFAULT_REDIS_IMAGE = "redis:7";
    /**
     * The system property naming the Kafka image, an {@code apache/kafka} or
     * {@code apache/kafka-native} one; {@value #DEFAULT_KAFKA_IMAGE} by default.
     */
    public static final String KAFKA_IMAGE_PROPERTY = "cachet.testkit.kafka.image";
    /** The Kafka image when {@value #KAFKA_IMAGE_PROPERTY} is not set. */
    public static final String DEFAULT_KAFKA_IMAGE = "apache/kafka:4.1.0";
    /** The system property bounding the wait for a Docker engine's answer, in whole seconds. */
    public static final String DOCKER_TIMEOUT_PROPERTY = "cachet.testkit.docker.timeoutSeconds";
    /** The wait for a Docker engine's answer when {@value #DOCKER_TIMEOUT_PROPERTY} is not set. */
    public static final Duration DEFAULT_DOCKER_TIMEOUT = Duration.ofSeconds(30);

    private final Function<String, @Nullable String> properties;
    private final DockerProbe probe;

    /**
     * Creates a selection over the given properties and probe.
     *
     * @param properties looks up a property by name, {@code null} when it is not set
     * @param probe tells whether a Docker engine answers; asked only in container mode
     */
    public ServerSelection(Function<String, @Nullable String> properties, DockerProbe probe) {
        this.properties = requireNonNull(properties, "properties");
        this.probe = requireNonNull(probe, "probe");
    }

    /**
     * Returns the selection over the system properties and the Testcontainers probe.
     *
     * @return the selection
     */
    public static ServerSelection fromSystemProperties() {
        // A lambda, so that Testcontainers' classes load only when container mode asks for them.
        return new ServerSelection(System::getProperty, timeout -> DockerProbe.testcontainers().isDockerAvailable(timeout));
    }

    /**
     * Returns the selected mode.
     *
     * @return the mode {@value ServerMode#PROPERTY} names
     * @throws IllegalArgumentException naming the property and the accepted values for an unknown value
     */
    public ServerMode mode() {
        return ServerMode.parse(properties.apply(ServerMode.PROPERTY));
    }

    /**
     * Tells whether a server that can run in a container should: {@code false} in process mode;
     * in container mode {@code true}, once Testcontainers and a Docker engine are there.
     *
     * @param server what would run, for messages, e.g. {@code "Redis"}
     * @param requiredClass a class the container needs, e.g. Testcontainers' {@code GenericContainer}
     * @param requiredArtifact the Maven artifact that holds it, for the message
     * @return {@code true} to run the server in a container, {@code false} for a process
     * @throws IllegalArgumentException for an unknown mode or a bad timeout
     * @throws ExtensionConfigurationException in container mode when {@code requiredClass} is missing
     * @throws org.opentest4j.TestAbortedException in container mode when no Docker engine answers:
     *     the test class is skipped
     */
    public boolean useContainer(String server, String requiredClass, String requiredArtifact) {
        ConditionEvaluationResult condition = condition(server, requiredClass, requiredArtifact);
        if (condition.isDisabled()) {
            Assumptions.abort(condition.getReason().orElseThrow());
        }
        return mode() == ServerMode.TESTCONTAINERS;
    }

    /**
     * Tells whether tests that need the server can run, for an extension's
     * {@link org.junit.jupiter.api.extension.ExecutionCondition}: disabled, with the reason, in
     * container mode when no Docker engine answers (so that the class is reported skipped with it).
     *
     * @param server what would run, for messages, e.g. {@code "Redis"}
     * @param requiredClass a class the container needs, e.g. Testcontainers' {@code GenericContainer}
     * @param requiredArtifact the Maven artifact that holds it, for the message
     * @return enabled in process mode or with a Docker engine; else disabled, saying why
     * @throws IllegalArgumentException for an unknown mode or a bad timeout
     * @throws ExtensionConfigurationException in container mode when {@code requiredClass} is missing
     */
    public ConditionEvaluationResult condition(String server, String requiredClass, String requiredArtifact) {
        if (mode() == ServerMode.PROCESS) {
            return ConditionEvaluationResult.enabled(server + " runs as a process");
        }
        if (!isPresent(requiredClass)) {
            throw new ExtensionConfigurationException(ServerMode.PROPERTY + "=" + ServerMode.TESTCONTAINERS.value()
                    + " runs " + server + " in a container, which needs " + requiredArtifact
                    + " on the test class path: add it (test scope), or drop the property to run processes");
        }
        Duration timeout = dockerTimeout();
        if (!probe.isDockerAvailable(timeout)) {
            return ConditionEvaluationResult.disabled(server + " not started, so these tests are skipped: "
                    + ServerMode.PROPERTY + "=" + ServerMode.TESTCONTAINERS.value()
                    + " runs it in a container, but no Docker engine answered (waited up to "
                    + timeout.toSeconds() + " s, " + DOCKER_TIMEOUT_PROPERTY + "). Start Docker, or run with "
                    + ServerMode.PROPERTY + "=" + ServerMode.PROCESS.value() + " (the default), which needs none");
        }
        return ConditionEvaluationResult.enabled(server + " runs in a container");
    }

    /**
     * Returns the Redis image to run.
     *
     * @return {@value #REDIS_IMAGE_PROPERTY}, else {@value #DEFAULT_REDIS_IMAGE}
     */
    public String redisImage() {
        return property(REDIS_IMAGE_PROPERTY, DEFAULT_REDIS_IMAGE);
    }

    /**
     * Returns the Kafka image to run.
     *
     * @return {@value #KAFKA_IMAGE_PROPERTY}, else {@value #DEFAULT_KAFKA_IMAGE}
     */
    public String kafkaImage() {
        return property(KAFKA_IMAGE_PROPERTY, DEFAULT_KAFKA_IMAGE);
    }

    /**
     * Returns how long to wait for a Docker engine's answer.
     *
     * @return {@value #DOCKER_TIMEOUT_PROPERTY} seconds, else {@link #DEFAULT_DOCKER_TIMEOUT}
     * @throws IllegalArgumentException naming the property when it is not a positive whole number
     */
    public Duration dockerTimeout() {
        String value = properties.apply(DOCKER_TIMEOUT_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_DOCKER_TIMEOUT;
        }
        long seconds;
        try {
            seconds = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (seconds <= 0) {
            throw new IllegalArgumentException(DOCKER_TIMEOUT_PROPERTY + " must be a whole number of seconds > 0, was '"
                    + value + "'");
        }
        return Duration.ofSeconds(seconds);
    }

    private String property(String name, String defaultValue) {
        String value = properties.apply(name);
        return value == null || value.isBlank() ? defaultValue : value.strip();
    }

    private static boolean isPresent(String className) {
        try {
            Class.forName(className, false, ServerSelection.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
