package io.cachet.testkit.kafka;

/**
 * A single-node Kafka cluster for tests: one KRaft node that is both broker and controller.
 *
 * <p>Implementations are thread-safe.
 */
public interface KafkaBroker extends AutoCloseable {
    /**
     * Returns the value for a client's {@code bootstrap.servers}, e.g. {@code "127.0.0.1:41234"}.
     *
     * @return the broker's client address
     */
    String bootstrapServers();

    /**
     * Tells whether the broker is up.
     *
     * @return {@code true} between a successful start and the next stop
     */
    boolean isRunning();

    /** Shuts the broker down gracefully and waits for it; a no-op when it is not running. */
    void stop();

    /** Stops the broker and deletes its data; idempotent. */
    @Override
    void close();
}
