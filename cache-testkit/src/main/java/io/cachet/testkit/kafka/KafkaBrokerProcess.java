package io.cachet.testkit.kafka;

import io.cachet.testkit.internal.ChildProcesses;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * in combined mode, that a fault test can kill and restart.
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
 * serves the same data at the same {@link #bootstrapServers()}. The storage is formatted in this
 * JVM before the first start. The broker's console output goes to {@link #logFile()}, whose tail
 * a failed start reports. The class path defaults to this JVM's ({@code java.class.path}), which
 * must hold {@code kafka_2.13} and its dependencies. Only the process this object started is
 * ever signalled, and a shutdown hook kills it if the test JVM exits first.
 *
 * <p>Thread-safe.
 */
public final class KafkaBrokerProcess implements KafkaBroker {
    /** The broker's main class. */
    public static final String MAIN_CLASS = "kafka.Kafka";

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerProcess.class);
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
    private volatile @Nullable Process process; // written under lock
    private volatile boolean closed; // written under lock

    private KafkaBrokerProcess(Builder builder) {
        this.classpath = builder.classpath;
        this.jvmOptions = List.copyOf(builder.jvmOptions);
        this.startTimeout = builder.startTimeout;
        try {
            this.directory = Files.createTempDirectory("cachet-kafka");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for Kafka", e);
        }
        this.dataDirectory = directory.resolve("data");
        this.logFile = directory.resolve("broker.log");
        int[] ports = freePorts(2);
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
        properties.putAll(BrokerDefaults.SINGLE_NODE);
        properties.putAll(builder.brokerProperties);
        this.brokerProperties = Map.copyOf(properties);
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
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("KafkaBrokerProcess is closed");
            }
            if (isRunning()) {
                throw new IllegalStateException("Kafka is already running on " + bootstrapServers());
            }
            long startNanos = System.nanoTime();
            Path propertiesFile = writeConfiguration();
            formatIfNeeded();
            long logOffset = logSize();
            Process started;
            try {
                List<String> command = new ArrayList<>();
                command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                command.addAll(jvmOptions);
                command.add("@" + writeClasspathArgFile());
                command.add(MAIN_CLASS);
                command.add(propertiesFile.toString());
                started = new ProcessBuilder(command)
                        .directory(directory.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot launch the Kafka broker JVM", e);
            }
            ChildProcesses.add(started);
            process = started;
            awaitReady(started, startNanos + startTimeout.toNanos(), logOffset);
            LOG.info("Kafka broker process on {} ready in {} ms (pid {}, log {})", bootstrapServers(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), started.pid(), logFile);
            return this;
        }
    }

    /** Shuts the broker down gracefully (SIGTERM, a controlled shutdown) and waits for it to exit. */
    @Override
    public void stop() {
        terminate(false);
    }

    /** Kills the broker (SIGKILL) and waits for it to exit; its acknowledged data stays on disk. */
    public void kill() {
        terminate(true);
    }

    @Override
    public boolean isRunning() {
        Process current = process;
        return current != null && current.isAlive();
    }

    /** Returns {@code "127.0.0.1:port"}; valid before the first start and across restarts. */
    @Override
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
        Process current = process;
        if (current == null || !current.isAlive()) {
            throw new IllegalStateException("Kafka is not running");
        }
        return current.pid();
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

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            terminate(false);
            closed = true;
            deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        return "KafkaBrokerProcess[" + bootstrapServers() + (isRunning() ? ", running]" : ", stopped]");
    }

    private Path writeConfiguration() {
        Path file = directory.resolve("server.properties");
        Properties properties = new Properties();
        properties.putAll(brokerProperties);
        try (Writer writer = Files.newBufferedWriter(file, UTF_8)) {
            properties.store(writer, "written by " + KafkaBrokerProcess.class.getName());
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
                AdminClientConfig.CLIENT_ID_CONFIG, "cachet-testkit-readiness",
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
                    destroy(started, true);
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
        destroy(started, true);
        IllegalStateException failure = new IllegalStateException(problem + " on " + bootstrapServers()
                + "; the tail of " + logFile + ":\n" + logTail(logOffset));
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
            Process current = process;
            if (current == null) {
                return;
            }
            long startNanos = System.nanoTime();
            destroy(current, forcibly);
            LOG.info("Kafka broker process on {} {} in {} ms (exit code {})", bootstrapServers(),
                    forcibly ? "killed" : "stopped", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
                    current.exitValue());
        }
    }

    private void destroy(Process current, boolean forcibly) {
        try {
            ChildProcesses.stop(current, forcibly, STOP_TIMEOUT, "Kafka broker");
        } finally {
            if (process == current) {
                process = null;
            }
        }
    }

    private long logSize() {
        try {
            return Files.exists(logFile) ? Files.size(logFile) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private String logTail(long fromOffset) {
        try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
            long start = Math.max(fromOffset, file.length() - LOG_TAIL_BYTES);
            byte[] bytes = new byte[(int) (file.length() - start)];
            file.seek(start);
            file.readFully(bytes);
            return new String(bytes, UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find free ports on " + HOST, e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // The probe socket is gone either way.
                }
            }
        }
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    LOG.debug("cannot delete {}", path, e);
                }
            });
        } catch (IOException e) {
            LOG.debug("cannot delete {}", root, e);
        }
    }

    /**
     * Builds a {@link KafkaBrokerProcess}. Not thread-safe.
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
         * Sets how long {@link KafkaBrokerProcess#start()} waits for the broker; 90 seconds by default.
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
        public KafkaBrokerProcess build() {
            if (classpath.isBlank()) {
                throw new IllegalStateException("no class path for the Kafka broker: set one with classpath(...)");
            }
            return new KafkaBrokerProcess(this);
        }
    }
}
