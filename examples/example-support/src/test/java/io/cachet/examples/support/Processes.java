package io.cachet.examples.support;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Stopping the processes a system test started, and reading their logs. */
public final class Processes {

  private Processes() {}

  /**
   * Stops {@code process} (SIGTERM), and kills it (SIGKILL) when it has not exited within
   * {@code timeout}. Only this process is signalled.
   *
   * @param process a process the test started
   * @param timeout how long it may take to stop
   * @return whether it had to be killed
   */
  public static boolean stop(Process process, Duration timeout) {
    try {
      process.destroy();
      if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        return false;
      }
      process.destroyForcibly();
      process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return true;
    }
  }

  /**
   * Returns what a process wrote to {@code file} so far.
   *
   * @param file its output
   * @return the text, or a note saying why there is none
   */
  public static String log(Path file) {
    try {
      return Files.readString(file, UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
