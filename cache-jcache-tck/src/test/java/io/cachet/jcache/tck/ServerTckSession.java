package io.cachet.jcache.tck;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one server for a TCK run on a remote backend when its system property is {@code true},
 * sets the JCache provider's default address option to it, and stops it when the run's last
 * launcher session closes. Does nothing in other runs. Subclasses say which server and which
 * properties; registered through
 * {@code META-INF/services/org.junit.platform.launcher.LauncherSessionListener}.
 *
 * @param <S> the server
 */
abstract class ServerTckSession<S extends AutoCloseable> implements LauncherSessionListener {

  private static final Logger log = LoggerFactory.getLogger(ServerTckSession.class);

  /** The server of a run, shared by its launcher sessions. */
  static final class Shared<S> {
    private S server; // guarded by this
    private int sessions; // guarded by this

    /** Returns the server of this run, or null when the session listener is off. */
    synchronized S get() {
      return server;
    }
  }

  private final Shared<S> shared;
  private final String enabledProperty;
  private final String addressProperty;

  ServerTckSession(Shared<S> shared, String enabledProperty, String addressProperty) {
    this.shared = shared;
    this.enabledProperty = enabledProperty;
    this.addressProperty = addressProperty;
  }

  /** Starts the server. */
  abstract S start();

  /** The value of the provider's address option for {@code server}. */
  abstract String address(S server);

  /** The backend the run uses, for the log. */
  abstract String backend();

  @Override
  public final void launcherSessionOpened(LauncherSession session) {
    if (!Boolean.getBoolean(enabledProperty)) {
      return;
    }
    synchronized (shared) {
      if (shared.sessions++ == 0) {
        shared.server = start();
        System.setProperty(addressProperty, address(shared.server));
        log.info("JCache TCK on the {} backend: server at {}", backend(), address(shared.server));
      }
    }
  }

  @Override
  public final void launcherSessionClosed(LauncherSession session) {
    if (!Boolean.getBoolean(enabledProperty)) {
      return;
    }
    synchronized (shared) {
      if (--shared.sessions == 0 && shared.server != null) {
        try {
          shared.server.close();
        } catch (Exception e) {
          log.warn("Stopping the {} TCK server failed: {}", backend(), e.toString());
        }
        shared.server = null;
        System.clearProperty(addressProperty);
      }
    }
  }
}
