package io.cachet.testkit.kafka;

import io.cachet.servers.KafkaProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A Kafka broker in a JVM of its own, one KRaft node in combined mode, that a fault test can kill
 * and restart: a {@link KafkaProcess} as a test kit {@link KafkaBroker}.
 *
 * <pre>{@code
 * try (KafkaBrokerProcess kafka = KafkaBrokerProcess.create().start()) {
 *     props.put("bootstrap.servers", kafka.bootstrapServers());
 *     ... produce with acks=all ...
 *     kafka.kill();   // SIGKILL
 *     kafka.start();  // same ports, same data: the acknowledged records are still there
 * }
 * }</pre>
 *
 * <p>Its ports (127.0.0.1) and data directory are fixed when it is built, so a restarted broker
 * serves the same data at the same {@link #bootstrapServers()}. The class path defaults to this
 * JVM's ({@code java.class.path}), which must hold {@code kafka_2.13} and its dependencies. Only
 * the process this object started is ever signalled, and a shutdown hook kills it if the test
 * JVM exits first.
 *
 * <p>Thread-safe.
 */
public final class KafkaBrokerProcess implements KafkaBroker {
    /** The broker's main class. */
    public static final String MAIN_CLASS = KafkaProcess.MAIN_CLASS;

    private final KafkaProcess process;

    private KafkaBrokerProcess(KafkaProcess process) {
        this.process = process;
    }

    /**
     * Creates a stopped broker with the defaults; {@link #start()} launches it.
     *
     * @return the broker, not started yet
     */
    public static KafkaBrokerProcess create() {
        return builder().build();
    }

    /**
     * Returns a builder for a broker with extra settings, class path or JVM options.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Launches the broker (formatting its storage the first time) and waits until it has
     * registered and an admin client sees it.
     *
     * @return this broker
     * @throws IllegalStateException when it is running or closed already, or does not get ready
     *     in time (the message carries the tail of its log)
     */
    public KafkaBrokerProcess start() {
        process.start();
        return this;
    }

    /** Shuts the broker down gracefully (SIGTERM, a controlled shutdown) and waits for it to exit. */
    @Override
    public void stop() {
        process.stop();
    }

    /** Kills the broker (SIGKILL) and waits for it to exit; its acknowledged data stays on disk. */
    public void kill() {
        process.kill();
    }

    @Override
    public boolean isRunning() {
        return process.isRunning();
    }

    /** Returns {@code "127.0.0.1:port"}; valid before the first start and across restarts. */
    @Override
    public String bootstrapServers() {
        return process.bootstrapServers();
    }

    /**
     * Returns the broker's client port.
     *
     * @return the port of {@link #bootstrapServers()}
     */
    public int port() {
        return process.port();
    }

    /**
     * Returns the broker's process id.
     *
     * @return the pid of the running broker JVM
     * @throws IllegalStateException when it is not running
     */
    public long pid() {
        return process.pid();
    }

    /**
     * Returns the directory that holds {@code server.properties}, the data and the log.
     *
     * @return the broker's directory, deleted by {@link #close()}
     */
    public Path directory() {
        return process.directory();
    }

    /**
     * Returns the file the broker's console output goes to, across restarts.
     *
     * @return the log file
     */
    public Path logFile() {
        return process.logFile();
    }

    @Override
    public void close() {
        process.close();
    }

    @Override
    public String toString() {
        return process.toString();
    }

    /**
     * Builds a {@link KafkaBrokerProcess}: the settings of {@link KafkaProcess.Builder}. Not
     * thread-safe.
     */
    public static final class Builder {
        private final KafkaProcess.Builder delegate = KafkaProcess.builder();

        private Builder() {}

        /**
         * Sets one broker setting, overriding the default for that key.
         *
         * @param key a broker setting, e.g. {@code "num.partitions"}
         * @param value its value
         * @return this builder
         */
        public Builder brokerProperty(String key, String value) {
            delegate.brokerProperty(key, value);
            return this;
        }

        /**
         * Sets the broker JVM's class path, which must hold {@code kafka_2.13} and its
         * dependencies; by default this JVM's {@code java.class.path}.
         *
         * @param classpath the class path, entries separated by the platform's path separator
         * @return this builder
         */
        public Builder classpath(String classpath) {
            delegate.classpath(classpath);
            return this;
        }

        /**
         * Replaces the broker JVM's options; by default a 512 MiB heap, the serial collector and
         * only the C1 compiler (for a fast start).
         *
         * @param options JVM options such as {@code "-Xmx1g"}
         * @return this builder
         */
        public Builder jvmOptions(List<String> options) {
            delegate.jvmOptions(options);
            return this;
        }

        /**
         * Sets how long {@link KafkaBrokerProcess#start()} waits for the broker; 90 seconds by default.
         *
         * @param timeout the longest start
         * @return this builder
         */
        public Builder startTimeout(Duration timeout) {
            delegate.startTimeout(timeout);
            return this;
        }

        /**
         * Builds the broker: picks its ports and creates its directory, without starting it.
         *
         * @return the stopped broker
         * @throws IllegalStateException when the class path is empty
         */
        public KafkaBrokerProcess build() {
            return new KafkaBrokerProcess(delegate.build());
        }
    }
}
