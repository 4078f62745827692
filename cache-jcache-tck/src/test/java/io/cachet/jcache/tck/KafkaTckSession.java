package io.cachet.jcache.tck;

import io.cachet.testkit.kafka.InJvmKafkaBroker;

/**
 * Starts one in-JVM Kafka broker for the test run when the system property {@value #ENABLED} is
 * {@code true} (the {@code tck-replicated} Surefire execution sets it) and points the JCache
 * provider's default replicated-kafka options at it ({@value #BOOTSTRAP}); see ServerTckSession.
 * The execution itself makes {@code replicated-kafka} the default backend; each cache gets the topic
 * its name maps to.
 */
public final class KafkaTckSession extends ServerTckSession<InJvmKafkaBroker> {

  /** The system property that turns this listener on: {@value}. */
  public static final String ENABLED = "cachet.jcache.tck.replicated";

  /** The provider's default bootstrap servers, set to the started broker: {@value}. */
  public static final String BOOTSTRAP = "cachet.jcache.default.replicated-kafka.bootstrapServers";

  private static final Shared<InJvmKafkaBroker> BROKER = new Shared<>();

  /** Returns the broker of this run, or null when the listener is off. */
  static InJvmKafkaBroker broker() {
    return BROKER.get();
  }

  /** Called by the JUnit Platform launcher. */
  public KafkaTckSession() {
    super(BROKER, ENABLED, BOOTSTRAP);
  }

  @Override
  InJvmKafkaBroker start() {
    return InJvmKafkaBroker.start();
  }

  @Override
  String address(InJvmKafkaBroker broker) {
    return broker.bootstrapServers();
  }

  @Override
  String backend() {
    return "replicated-kafka";
  }
}
