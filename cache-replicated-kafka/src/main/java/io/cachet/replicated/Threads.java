package io.cachet.replicated;

import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Starts this backend's threads (send, apply, fetch, snapshot writing), so that a test can make a start
 * fail as a JVM out of native threads does ({@code OutOfMemoryError: unable to create native
 * thread}) and check that nothing is left running or open.
 */
final class Threads {

  /** Runs before each start; a hook for tests, which may throw to fail the start. */
  static volatile @Nullable Consumer<Thread> beforeStartForTest;

  private Threads() {}

  /** Starts {@code thread}: a daemon, as no thread of a cache may keep the JVM alive. */
  static void start(Thread thread) {
    thread.setDaemon(true);
    Consumer<Thread> hook = beforeStartForTest;
    if (hook != null) {
      hook.accept(thread);
    }
    thread.start();
  }
}
