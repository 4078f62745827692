package io.cachet.testkit.kafka;

import static java.util.Objects.requireNonNull;

import io.cachet.servers.KafkaProcess;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka broker inside the test JVM, from Kafka's own {@code KafkaClusterTestKit}: one KRaft
 * node in combined mode, ready in about two seconds.
 *
 * <pre>{@code
 * try (InJvmKafkaBroker kafka = InJvmKafkaBroker.start()) {
 *     producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 * }
 * }</pre>
 *
 * <p>It cannot be restarted; fault tests use {@link KafkaBrokerProcess}. Its data lives in a
 * temporary directory that {@link #close()} deletes. Thread-safe.
 */
public final class InJvmKafkaBroker implements KafkaBroker {
    private static final Logger LOG = LoggerFactory.getLogger(InJvmKafkaBroker.class);

    private final KafkaClusterTestKit cluster;
    private final String bootstrapServers;
    private final Object lock = new Object();
    private volatile boolean running = true; // written under lock

    private InJvmKafkaBroker(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
        // The test kit names "localhost"; the listener is advertised (and reachable) as 127.0.0.1.
        this.bootstrapServers = cluster.bootstrapServers().replace("localhost:", "127.0.0.1:");
    }

    /**
     * Starts a broker with the single-node defaults and waits until it is ready.
     *
     * @return the running broker
     * @throws IllegalStateException when it does not start
     */
    public static InJvmKafkaBroker start() {
        return start(Map.of());
    }

    /**
     * Starts a broker with extra broker settings and waits until it is ready.
     *
     * @param brokerProperties broker settings that override the defaults, e.g.
     *     {@code Map.of("log.retention.ms", "1000")}
     * @return the running broker
     * @throws IllegalStateException when it does not start
     */
    public static InJvmKafkaBroker start(Map<String, String> brokerProperties) {
        requireNonNull(brokerProperties, "brokerProperties");
        long startNanos = System.nanoTime();
        KafkaClusterTestKit cluster;
        try {
            TestKitNodes nodes = new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build();
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
            // Advertise 127.0.0.1 rather than "localhost", which may resolve to ::1 first.
            builder.setConfigProp("listeners", nodes.brokerListenerName().value() + "://127.0.0.1:0,"
                    + nodes.controllerListenerName().value() + "://127.0.0.1:0");
            KafkaProcess.SINGLE_NODE_SETTINGS.forEach(builder::setConfigProp);
            brokerProperties.forEach(builder::setConfigProp);
            cluster = builder.build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot build the in-JVM Kafka broker", e);
        }
        try {
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(cluster);
            throw new IllegalStateException("interrupted while starting the in-JVM Kafka broker", e);
        } catch (Exception e) {
            closeQuietly(cluster);
            throw new IllegalStateException("the in-JVM Kafka broker did not start", e);
        }
        InJvmKafkaBroker broker = new InJvmKafkaBroker(cluster);
        LOG.info("in-JVM Kafka broker on {} ready in {} ms", broker.bootstrapServers,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        return broker;
    }

    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Shuts the broker down and deletes its data; it cannot be started again. */
    @Override
    public void stop() {
        synchronized (lock) {
            if (!running) {
                return;
            }
            running = false;
            long startNanos = System.nanoTime();
            closeQuietly(cluster);
            LOG.info("in-JVM Kafka broker on {} stopped in {} ms", bootstrapServers,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        }
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "InJvmKafkaBroker[" + bootstrapServers + (running ? ", running]" : ", stopped]");
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        try {
            cluster.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("interrupted while stopping the in-JVM Kafka broker", e);
        } catch (Exception e) {
            LOG.warn("stopping the in-JVM Kafka broker failed", e);
        }
    }
}
