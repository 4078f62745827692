package io.cachet.testkit.kafka;

import io.cachet.servers.KafkaProcess;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A single-node Kafka in a container ({@code apache/kafka} or {@code apache/kafka-native} image),
 * with the same single-node settings as the process brokers. It cannot be restarted. Thread-safe.
 */
final class ContainerKafkaBroker implements KafkaBroker {
    /** The class a container needs, for the class-path check before choosing one. */
    static final String REQUIRED_CLASS = "org.testcontainers.kafka.KafkaContainer";
    /** The artifact that holds it. */
    static final String REQUIRED_ARTIFACT = "org.testcontainers:testcontainers-kafka";

    private static final Logger LOG = LoggerFactory.getLogger(ContainerKafkaBroker.class);

    private final String image;
    private final KafkaContainer container;
    private final String bootstrapServers;
    private final Object lock = new Object();
    private volatile boolean running = true; // written under lock

    private ContainerKafkaBroker(String image, KafkaContainer container) {
        this.image = image;
        this.container = container;
        this.bootstrapServers = container.getBootstrapServers();
    }

    /**
     * Starts a broker in a container of the given image and waits until it is ready.
     *
     * @param image an {@code apache/kafka} or {@code apache/kafka-native} image, e.g. {@code apache/kafka:4.1.0}
     * @return the running broker
     * @throws IllegalStateException when it does not start
     */
    static ContainerKafkaBroker start(String image) {
        KafkaContainer container = new KafkaContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("apache/kafka"));
        // The image maps KAFKA_<NAME> variables to broker settings.
        KafkaProcess.SINGLE_NODE_SETTINGS.forEach((name, value) ->
                container.withEnv("KAFKA_" + name.toUpperCase(Locale.ROOT).replace('.', '_'), value));
        try {
            container.start();
        } catch (RuntimeException e) {
            container.close();
            throw new IllegalStateException("the Kafka container " + image + " did not start", e);
        }
        ContainerKafkaBroker broker = new ContainerKafkaBroker(image, container);
        LOG.info("Kafka container {} on {}", image, broker.bootstrapServers);
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

    /** Stops and removes the container; it cannot be started again. */
    @Override
    public void stop() {
        synchronized (lock) {
            if (!running) {
                return;
            }
            running = false;
        }
        container.close();
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "ContainerKafkaBroker[" + image + ", " + bootstrapServers + (running ? ", running]" : ", stopped]");
    }
}
