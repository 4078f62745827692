package io.cachet.jcache.tck;

import io.cachet.testkit.kafka.InJvmKafkaBroker;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one in-JVM Kafka broker for the test run when the system property {@value #ENABLED} is
 * {@code true} (the {@code tck-replicated} Surefire execution sets it), points the JCache
 * provider's default replicated-kafka options at it ({@value #BOOTSTRAP}) and stops it when the run
 * ends. Does nothing in other runs.
 *
 * <p>Registered through {@code META-INF/services/org.junit.platform.launcher.LauncherSessionListener}.
 * The execution itself makes {@code replicated-kafka} the default backend; each cache gets the topic
 * its name maps to.
 */
public final class KafkaTckSession implements LauncherSessionListener {

  /** The system property that turns this listener on: {@value}. */
  public static final String ENABLED = "cachet.jcache.tck.replicated";

  /** The provider's default bootstrap servers, set to the started broker: {@value}. */
  public static final String BOOTSTRAP = "cachet.jcache.default.replicated-kafka.bootstrapServers";

  private static final Logger log = LoggerFactory.getLogger(KafkaTckSession.class);

  private static final Object LOCK = new Object();
  private static InJvmKafkaBroker broker; // guarded by LOCK
  private static int sessions; // guarded by LOCK

  /** Returns the broker of this run, or null when the listener is off. */
  static InJvmKafkaBroker broker() {
    synchronized (LOCK) {
      return broker;
    }
  }

  /** Called by the JUnit Platform launcher. */
  public KafkaTckSession() {}

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    if (!Boolean.getBoolean(ENABLED)) {
      return;
    }
    synchronized (LOCK) {
      if (sessions++ == 0) {
        broker = InJvmKafkaBroker.start();
        System.setProperty(BOOTSTRAP, broker.bootstrapServers());
        log.info("JCache TCK on the replicated-kafka backend: Kafka at {}", broker.bootstrapServers());
      }
    }
  }

  @Override
  public void launcherSessionClosed(LauncherSession session) {
    if (!Boolean.getBoolean(ENABLED)) {
      return;
    }
    synchronized (LOCK) {
      if (--sessions == 0 && broker != null) {
        broker.close();
        broker = null;
        System.clearProperty(BOOTSTRAP);
      }
    }
  }
}
