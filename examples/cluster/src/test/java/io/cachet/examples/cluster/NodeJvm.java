package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.examples.support.Processes;
import io.cachet.examples.support.RawHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One node of the built jar ({@code java -cp cluster.jar ...ClusterNode}) run by a test as its
 * own process, for faults the launcher cannot inject: each node with its own Kafka address (a
 * relay of its own), paused and resumed with SIGSTOP / SIGCONT. Only this process is ever
 * signalled, by its pid. {@link #close()} stops it (SIGTERM, SIGKILL after a deadline).
 */
final class NodeJvm implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("listening on (http://[0-9.]+:([0-9]+))");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final String id;
  private final Process process;
  private final Path log;
  private final String url;
  private final int port;

  private NodeJvm(String id, Process process, Path log, String url, int port) {
    this.id = id;
    this.process = process;
    this.log = log;
    this.url = url;
    this.port = port;
  }

  /** Starts node {@code id} against {@code kafka} on a free port and waits until it listens. */
  static NodeJvm start(String id, String kafka, String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms32m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", ClusterProcess.jar().toString(), ClusterNode.class.getName(),
        "--kafka", kafka, "--node-id", id, "--port", "0", "--threads", "2", "--exit-with-parent",
        Long.toString(ProcessHandle.current().pid())));
    command.addAll(List.of(args));
    try {
      Path logs = Files.createDirectories(Path.of("target", "cluster-logs"));
      Path log = Files.createTempFile(logs, id + "-", ".log");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      NodeProcess.NODE_VARIABLES.forEach(builder.environment()::remove);
      Process process = builder.start();
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (System.nanoTime() - deadline < 0) {
        Matcher m = LISTENING.matcher(Files.readString(log, UTF_8));
        if (m.find()) {
          return new NodeJvm(id, process, log, m.group(1), Integer.parseInt(m.group(2)));
        }
        if (process.waitFor(50, TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException(id + " exited with " + process.exitValue() + ":\n" + Files.readString(log));
        }
      }
      process.destroyForcibly();
      throw new IllegalStateException(id + " did not listen within " + START_TIMEOUT);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  String id() {
    return id;
  }

  String url() {
    return url;
  }

  int port() {
    return port;
  }

  /** {@code /health/ready}'s answer. */
  RawHttp.Response readiness() {
    return RawHttp.get(port, "/health/ready");
  }

  /** Pauses the process (SIGSTOP): it holds its sockets and answers nothing. */
  void pause() {
    signal("STOP");
  }

  /** Resumes a paused process (SIGCONT); nothing to do once it has exited. */
  void resume() {
    if (process.isAlive()) {
      signal("CONT");
    }
  }

  private void signal(String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  String log() {
    return Processes.log(log);
  }

  @Override
  public void close() {
    Processes.stop(process, Duration.ofSeconds(20));
  }
}
