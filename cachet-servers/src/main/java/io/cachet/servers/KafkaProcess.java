package io.cachet.servers;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka broker in a JVM of its own ({@code java kafka.Kafka server.properties}), one KRaft node
 * in combined mode, that can be killed and restarted: the cluster example's demo broker and the
 * test kit's fault-test broker.
 *
 * <pre>{@code
 * try (KafkaProcess kafka = KafkaProcess.create().start()) {
 *     props.put("bootstrap.servers", kafka.bootstrapServers());
 *     ... produce with acks=all ...
 *     kafka.kill();   // SIGKILL
 *     kafka.start();  // same ports, same data: the acknowledged records are still there
 * }
 * }</pre>
 *
 * <p>Its ports (127.0.0.1) and data directory are fixed when it is built, so a restarted broker
 * serves the same data at the same {@link #bootstrapServers()}. The storage is formatted in this
 * JVM before the first start. The broker's console output goes to {@link #logFile()}, whose tail
 * a failed start reports. The class path defaults to this JVM's ({@code java.class.path}), which
 * must hold {@code kafka_2.13} and its dependencies. Only the process this object started is
 * ever signalled, and a shutdown hook kills it if this JVM exits first.
 *
 * <p>Thread-safe.
 */
public final class KafkaProcess implements AutoCloseable {
    /** The broker's main class. */
    public static final String MAIN_CLASS = "kafka.Kafka";

    /**
     * Broker settings a single-node cluster needs (every replication factor and ISR is 1), or that
     * make it start and rebalance faster; an in-JVM broker can use them too.
     */
    public static final Map<String, String> SINGLE_NODE_SETTINGS = Map.of(
            "offsets.topic.replication.factor", "1",
            "offsets.topic.num.partitions", "1",
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1",
            "transaction.state.log.num.partitions", "1",
            "share.coordinator.state.topic.replication.factor", "1",
            "share.coordinator.state.topic.min.isr", "1",
            "min.insync.replicas", "1",
            "group.initial.rebalance.delay.ms", "0",
            "auto.create.topics.enable", "true");

    private static final Logger LOG = LoggerFactory.getLogger(KafkaProcess.class);
    private static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    // C1 only: the broker is ready in about 2 s instead of 5 s, at some cost in peak throughput.
    private static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true");
    private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    private static final int LOG_TAIL_BYTES = 8192;

    private final String classpath;
    private final List<String> jvmOptions;
    private final Map<String, String> brokerProperties;
    private final Duration startTimeout;
    private final Path directory;
    private final Path dataDirectory;
    private final Path logFile;
    private final int port;
    private final int controllerPort;
    private final String clusterId = Uuid.randomUuid().toString();
    private final Object lock = new Object();
    private final ProcessSlot process = new ProcessSlot("Kafka broker", STOP_TIMEOUT);
    private volatile boolean closed; // written under lock

    private KafkaProcess(Builder builder) {
        this.classpath = builder.classpath;
        this.jvmOptions = List.copyOf(builder.jvmOptions);
        this.startTimeout = builder.startTimeout;
        this.directory = ServerFiles.createDirectory("cachet-kafka", "Kafka");
        this.dataDirectory = directory.resolve("data");
        this.logFile = directory.resolve("broker.log");
        int[] ports = Ports.free(HOST, 2);
        this.port = ports[0];
        this.controllerPort = ports[1];
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("process.roles", "broker,controller");
        properties.put("node.id", Integer.toString(NODE_ID));
        properties.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        properties.put("listeners", "PLAINTEXT://" + HOST + ":" + port + "," + CONTROLLER_LISTENER + "://" + HOST
                + ":" + controllerPort);
        properties.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port);
        properties.put("controller.listener.names", CONTROLLER_LISTENER);
        properties.put("inter.broker.listener.name", "PLAINTEXT");
        properties.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        properties.put("log.dirs", dataDirectory.toString());
        // Without these a restarted broker waits out the old registration's session (9 s).
        properties.put("broker.session.timeout.ms", "2000");
        properties.put("broker.heartbeat.interval.ms", "500");
        properties.putAll(SINGLE_NODE_SETTINGS);
        properties.putAll(builder.brokerProperties);
        this.brokerProperties = Map.copyOf(properties);
    }

    /**
     * Creates a stopped broker with the defaults; {@link #start()} launches it.
     *
     * @return the broker, not started yet
     */
    public static KafkaProcess create() {
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
    public KafkaProcess start() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("KafkaProcess is closed");
            }
            if (isRunning()) {
                throw new IllegalStateException("Kafka is already running on " + bootstrapServers());
            }
            process.forgetExited();
            long startNanos = System.nanoTime();
            Path propertiesFile = writeConfiguration();
            formatIfNeeded();
            long logOffset = ServerFiles.size(logFile);
            Process started;
            try {
                List<String> command = new ArrayList<>();
                command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                command.addAll(jvmOptions);
                command.add("@" + writeClasspathArgFile());
                command.add(MAIN_CLASS);
                command.add(propertiesFile.toString());
                started = process.start(command, directory, logFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot launch the Kafka broker JVM", e);
            }
            awaitReady(started, startNanos + startTimeout.toNanos(), logOffset);
            LOG.info("Kafka broker process on {} ready in {} ms (pid {}, log {})", bootstrapServers(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), started.pid(), logFile);
            return this;
        }
    }

    /** Shuts the broker down gracefully (SIGTERM, a controlled shutdown) and waits for it to exit. */
    public void stop() {
        terminate(false);
    }

    /** Kills the broker (SIGKILL) and waits for it to exit; its acknowledged data stays on disk. */
    public void kill() {
        terminate(true);
    }

    /**
     * Tells whether the broker process is alive.
     *
     * @return {@code true} while the process this object started is alive
     */
    public boolean isRunning() {
        return process.isRunning();
    }

    /** Returns {@code "127.0.0.1:port"}; valid before the first start and across restarts. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    /**
     * Returns the broker's client port.
     *
     * @return the port of {@link #bootstrapServers()}
     */
    public int port() {
        return port;
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
        return directory;
    }

    /**
     * Returns the file the broker's console output goes to, across restarts.
     *
     * @return the log file
     */
    public Path logFile() {
        return logFile;
    }

    /** Stops the broker and deletes its directory and data; idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            terminate(false);
            closed = true;
            ServerFiles.deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        return "KafkaProcess[" + bootstrapServers() + (isRunning() ? ", running]" : ", stopped]");
    }

    private Path writeConfiguration() {
        Path file = directory.resolve("server.properties");
        Properties properties = new Properties();
        properties.putAll(brokerProperties);
        try (Writer writer = Files.newBufferedWriter(file, UTF_8)) {
            properties.store(writer, "written by " + KafkaProcess.class.getName());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    private void formatIfNeeded() {
        if (Files.exists(dataDirectory.resolve("meta.properties"))) {
            return;
        }
        try {
            Files.createDirectories(dataDirectory);
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream(), true, UTF_8))
                    .setNodeId(NODE_ID)
                    .setClusterId(clusterId)
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setMetadataLogDirectory(dataDirectory.toString())
                    .setDirectories(List.of(dataDirectory.toString()))
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format the Kafka storage in " + dataDirectory, e);
        }
    }

    /** A {@code java @file} argument file, so a long class path never hits the command-line limit. */
    private Path writeClasspathArgFile() throws IOException {
        Path file = directory.resolve("classpath.args");
        String quoted = classpath.replace("\\", "\\\\").replace("\"", "\\\"");
        Files.writeString(file, "-cp \"" + quoted + "\"\n", UTF_8);
        return file;
    }

    private void awaitReady(Process started, long deadlineNanos, long logOffset) {
        Exception last = null;
        // First wait for the listener without a client, whose failed connects log warnings.
        while (!accepts(port)) {
            pauseOrFail(started, deadlineNanos, logOffset, null);
        }
        Map<String, Object> config = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.CLIENT_ID_CONFIG, "cachet-servers-readiness",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) PROBE_TIMEOUT.toMillis(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) PROBE_TIMEOUT.toMillis(),
                AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 50,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        try (Admin admin = Admin.create(config)) {
            while (true) {
                try {
                    Collection<Node> nodes = admin.describeCluster(
                                    new DescribeClusterOptions().timeoutMs((int) PROBE_TIMEOUT.toMillis()))
                            .nodes()
                            .get(PROBE_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
                    if (nodes.stream().anyMatch(node -> node.id() == NODE_ID)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    process.destroy(started, true);
                    throw new IllegalStateException("interrupted while waiting for Kafka", e);
                } catch (Exception e) {
                    last = e; // not registered or not serving yet
                }
                pauseOrFail(started, deadlineNanos, logOffset, last);
            }
        }
    }

    /** Pauses briefly; fails when the broker exited or the deadline passed. */
    private void pauseOrFail(Process started, long deadlineNanos, long logOffset, @Nullable Exception last) {
        String problem = null;
        try {
            // Doubles as the pause between probes and as exit detection.
            if (started.waitFor(50, TimeUnit.MILLISECONDS)) {
                problem = "Kafka exited with code " + started.exitValue() + " while starting";
            } else if (System.nanoTime() - deadlineNanos > 0) {
                problem = "Kafka was not ready within " + startTimeout;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem = "interrupted while waiting for Kafka";
        }
        if (problem == null) {
            return;
        }
        process.destroy(started, true);
        IllegalStateException failure = new IllegalStateException(problem + " on " + bootstrapServers()
                + "; the tail of " + logFile + ":\n" + ServerFiles.tail(logFile, logOffset, LOG_TAIL_BYTES));
        if (last != null) {
            failure.addSuppressed(last);
        }
        throw failure;
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), (int) PROBE_TIMEOUT.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void terminate(boolean forcibly) {
        synchronized (lock) {
            long startNanos = System.nanoTime();
            Integer exitCode = process.stop(forcibly);
            if (exitCode != null) {
                LOG.info("Kafka broker process on {} {} in {} ms (exit code {})", bootstrapServers(),
                        forcibly ? "killed" : "stopped", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
                        exitCode);
            }
        }
    }

    /**
     * Builds a {@link KafkaProcess}. Not thread-safe.
     */
    public static final class Builder {
        private final Map<String, String> brokerProperties = new LinkedHashMap<>();
        private final List<String> jvmOptions = new ArrayList<>(DEFAULT_JVM_OPTIONS);
        private String classpath = System.getProperty("java.class.path", "");
        private Duration startTimeout = DEFAULT_START_TIMEOUT;

        private Builder() {}

        /**
         * Sets one broker setting, overriding the default for that key.
         *
         * @param key a broker setting, e.g. {@code "num.partitions"}
         * @param value its value
         * @return this builder
         */
        public Builder brokerProperty(String key, String value) {
            brokerProperties.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
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
            if (requireNonNull(classpath, "classpath").isBlank()) {
                throw new IllegalArgumentException("classpath must not be blank");
            }
            this.classpath = classpath;
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
            List<String> copy = List.copyOf(requireNonNull(options, "options"));
            jvmOptions.clear();
            jvmOptions.addAll(copy);
            return this;
        }

        /**
         * Sets how long {@link KafkaProcess#start()} waits for the broker; 90 seconds by default.
         *
         * @param timeout the longest start
         * @return this builder
         */
        public Builder startTimeout(Duration timeout) {
            requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be > 0, was " + timeout);
            }
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Builds the broker: picks its ports and creates its directory, without starting it.
         *
         * @return the stopped broker
         * @throws IllegalStateException when the class path is empty
         */
        public KafkaProcess build() {
            if (classpath.isBlank()) {
                throw new IllegalStateException("no class path for the Kafka broker: set one with classpath(...)");
            }
            return new KafkaProcess(this);
        }
    }
}
