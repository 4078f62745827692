package io.cachet.jcache.tck;

import io.cachet.testkit.redis.RedisServer;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one Redis server for the test run when the system property {@value #ENABLED} is
 * {@code true} (the {@code tck-redis} Surefire execution sets it), points the JCache provider's
 * default Redis options at it ({@value #ADDRESS}) and stops it when the run ends. Does nothing in
 * other runs.
 *
 * <p>Registered through {@code META-INF/services/org.junit.platform.launcher.LauncherSessionListener}.
 * The execution itself makes {@code redis} the default backend and gives each cache its own key
 * prefix ({@code cachet.jcache.default.backend}, {@code cachet.jcache.default.redis.keyPrefix}).
 */
public final class RedisTckSession implements LauncherSessionListener {

  /** The system property that turns this listener on: {@value}. */
  public static final String ENABLED = "cachet.jcache.tck.redis";

  /** The provider's default Redis address, set to the started server: {@value}. */
  public static final String ADDRESS = "cachet.jcache.default.redis.address";

  private static final Logger log = LoggerFactory.getLogger(RedisTckSession.class);

  private static final Object LOCK = new Object();
  private static RedisServer server; // guarded by LOCK
  private static int sessions; // guarded by LOCK

  /** Returns the server of this run, or null when the listener is off. */
  static RedisServer server() {
    synchronized (LOCK) {
      return server;
    }
  }

  /** Called by the JUnit Platform launcher. */
  public RedisTckSession() {}

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    if (!Boolean.getBoolean(ENABLED)) {
      return;
    }
    synchronized (LOCK) {
      if (sessions++ == 0) {
        server = RedisServer.create().start();
        System.setProperty(ADDRESS, server.uri());
        log.info("JCache TCK on the redis backend: Redis {} at {}", server.executable(), server.uri());
      }
    }
  }

  @Override
  public void launcherSessionClosed(LauncherSession session) {
    if (!Boolean.getBoolean(ENABLED)) {
      return;
    }
    synchronized (LOCK) {
      if (--sessions == 0 && server != null) {
        server.close();
        server = null;
        System.clearProperty(ADDRESS);
      }
    }
  }
}
