package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The jar's two entry points on the command line: help, and invalid options (exit code 2). */
final class ClusterCommandLineIT {

  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

  record Run(int exitCode, String output) {}

  /**
   * Runs {@code java args} and returns its exit code and output, or fails when it has not exited
   * within {@link #EXIT_TIMEOUT}. The output goes to a file, read once the process has exited:
   * reading a pipe to its end would wait for the process however long it runs.
   */
  private static Run run(String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
    command.addAll(List.of(args));
    try {
      Path output = Files.createTempFile("cluster-command-line-", ".log");
      try {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        NodeProcess.NODE_VARIABLES.forEach(builder.environment()::remove);
        Process process = builder.start();
        if (!process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          throw new IllegalStateException(command + " did not exit within " + EXIT_TIMEOUT + ":\n"
              + Files.readString(output, UTF_8));
        }
        return new Run(process.exitValue(), Files.readString(output, UTF_8));
      } finally {
        Files.deleteIfExists(output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void launcher_help_listsTheOptions() {
    Run run = run("-jar", ClusterProcess.jar().toString(), "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.output()).contains("Usage: cluster", "--nodes", "--kafka", "KAFKA_BOOTSTRAP_SERVERS", "--port",
        "kill N", "/admin/nodes");
  }

  @Test
  void node_help_listsTheOptions() {
    Run run = run("-cp", ClusterProcess.jar().toString(), ClusterNode.class.getName(), "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.output()).contains("Usage: cluster-node", "--kafka", "KAFKA_BOOTSTRAP_SERVERS", "--node-id",
        "NODE_ID", "--port", "NODE_PORT", "--cache", "CACHE_NAME", "--capacity", "CACHE_CAPACITY", "--default-ttl",
        "DEFAULT_TTL", "--max-body", "MAX_BODY_BYTES", "--max-key-length");
  }

  @Test
  void node_invalidOption_exits2WithAMessage() {
    Run run = run("-cp", ClusterProcess.jar().toString(), ClusterNode.class.getName(), "--port", "http");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.output()).contains("cluster-node: invalid option: --port (NODE_PORT) must be a whole number");
  }

  /** A node whose launcher died before the node's JVM started exits instead of running on alone. */
  @Test
  void node_whoseLauncherHasAlreadyExited_exits1AtOnce() throws Exception {
    Process gone = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(gone.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    Run run = run("-cp", ClusterProcess.jar().toString(), ClusterNode.class.getName(), "--kafka", "127.0.0.1:1",
        "--port", "0", "--exit-with-parent", Long.toString(gone.pid()));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.output()).contains("The launcher (pid " + gone.pid() + ") has already exited; not starting");
  }

  @Test
  void launcher_invalidOption_exits2WithAMessage() {
    Run run = run("-jar", ClusterProcess.jar().toString(), "--nodes", "0");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.output()).contains("cluster: invalid option: --nodes (NODES) must be a whole number from 1 to 16");
  }
}
