package io.cachet.testkit;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Where the test kit's extensions run their servers, chosen for a whole test run by the system
 * property {@value #PROPERTY}.
 *
 * <p>Only {@code RedisServerExtension} (standalone Redis) and {@code KafkaBrokerExtension} (one
 * broker) follow it. Sentinel and Cluster setups and separate-process Kafka brokers always run
 * processes; on a Redis container, what needs a process (stop, kill, restart) skips the calling
 * test with a message. See docs/testing.md.
 */
public enum ServerMode {
    /** Local processes: {@code redis-server} and an in-JVM Kafka broker; needs no Docker. The default. */
    PROCESS("process"),
    /**
     * Testcontainers: a Redis container and an Apache Kafka container; needs a Docker engine and
     * {@code org.testcontainers} on the test class path. Tests are skipped when no engine answers.
     */
    TESTCONTAINERS("testcontainers");

    /** The system property that picks the mode: {@code process} (default) or {@code testcontainers}. */
    public static final String PROPERTY = "cachet.testkit.servers";

    /** The mode when {@value #PROPERTY} is not set. */
    public static final ServerMode DEFAULT = PROCESS;

    private final String value;

    ServerMode(String value) {
        this.value = value;
    }

    /**
     * Returns the value of {@value #PROPERTY} that selects this mode.
     *
     * @return {@code "process"} or {@code "testcontainers"}
     */
    public String value() {
        return value;
    }

    /**
     * Parses a value of {@value #PROPERTY}; case and surrounding blanks do not matter.
     *
     * @param value the property's value; {@code null} or blank for the {@link #DEFAULT}
     * @return the mode
     * @throws IllegalArgumentException naming the property and the accepted values when the value
     *     is none of them
     */
    public static ServerMode parse(@Nullable String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        String wanted = value.strip().toLowerCase(Locale.ROOT);
        for (ServerMode mode : values()) {
            if (mode.value.equals(wanted)) {
                return mode;
            }
        }
        throw new IllegalArgumentException(PROPERTY + " must be one of " + acceptedValues() + ", was '" + value + "'");
    }

    /**
     * Returns the mode the system property {@value #PROPERTY} selects.
     *
     * @return the selected mode, {@link #DEFAULT} when the property is not set
     * @throws IllegalArgumentException when the property holds an unknown value
     */
    public static ServerMode fromSystemProperty() {
        return parse(System.getProperty(PROPERTY));
    }

    private static String acceptedValues() {
        return Arrays.stream(values()).map(ServerMode::value).collect(Collectors.joining(", "));
    }
}
