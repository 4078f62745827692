package io.cachet.examples.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One node JVM the launcher started: {@code java <options> -cp <this jar> ClusterNode ...}. Its
 * id, port and log file stay the same across restarts. Only the process this object started is
 * ever signalled. Thread-safe: starting and signalling hold this object's monitor ({@link #stop()}
 * for up to its stop grace and 15 s more, see {@link #stopBy}); the status queries ({@link #alive()}, {@link #pid()}, {@link #starts()},
 * {@link #process()}) take no lock and never block, as the balancer answers them on an event loop.
 */
final class NodeProcess {

  /** Variables that would configure a node behind the launcher's back. */
  static final List<String> NODE_VARIABLES = List.of("KAFKA_BOOTSTRAP_SERVERS", "NODE_ID", "NODE_HOST", "NODE_PORT",
      "CACHE_NAME", "CACHE_CAPACITY", "DEFAULT_TTL", "MAX_BODY_BYTES", "MAX_KEY_LENGTH", "WRITE_TIMEOUT", "THREADS",
      "MAX_CONNECTIONS", "IDLE_TIMEOUT", "REQUEST_READ_TIMEOUT", "MAX_PENDING_REQUESTS", "MAX_QUEUED_RESPONSE_BYTES");
  /**
   * What a stopping node needs besides answering its requests ({@link NodeServer#answerPatience}):
   * closing its listener (up to 2 s, before it starts waiting for the answers) and event loops
   * (up to 8 s), then its cache: the producer's close (5 s) and its thread, the admin client (5 s).
   * With Kafka out of reach and a write in flight that comes to about 13 s. The threads' joins each
   * have longer bounds of their own (up to 30 s), which no healthy node comes near; a node that
   * needs them is SIGKILLed.
   */
  static final Duration CLOSE_ALLOWANCE = Duration.ofSeconds(20);
  /** How long {@link #kill()} waits for a SIGKILLed node to be gone. */
  private static final Duration KILL_WAIT = Duration.ofSeconds(15);

  final int index;
  final String id;
  final int port;
  final Path logFile;
  private final List<String> command;
  private final Duration stopGrace;
  private volatile @Nullable Process process; // written under this
  private volatile int starts; // written under this

  /** @param stopGrace how long {@link #stop()} waits after SIGTERM before it SIGKILLs the node */
  NodeProcess(int index, String id, int port, Path logFile, List<String> command, Duration stopGrace) {
    this.index = index;
    this.stopGrace = stopGrace;
    this.id = id;
    this.port = port;
    this.logFile = logFile;
    this.command = List.copyOf(command);
  }

  /**
   * How long a node configured as {@code node} may take to stop after SIGTERM before it is
   * SIGKILLed: long enough to answer a write that takes its whole timeout, then close. At most
   * 2 min 21 s, as the write timeout is at most 2 min.
   */
  static Duration stopGrace(NodeConfig node) {
    return NodeServer.answerPatience(node.writeTimeout()).plus(CLOSE_ALLOWANCE);
  }

  /** Builds the command that runs node {@code id} from {@code classpath}. */
  static List<String> command(String classpath, List<String> jvmOptions, NodeConfig node, String kafka, String id,
      int port) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classpath);
    command.add(ClusterNode.class.getName());
    command.addAll(List.of("--exit-with-parent", Long.toString(ProcessHandle.current().pid())));
    command.addAll(List.of("--kafka", kafka, "--node-id", id, "--host", node.host(), "--port", Integer.toString(port),
        "--cache", node.cacheName(), "--capacity", Long.toString(node.capacity()),
        "--max-body", Integer.toString(node.maxBodyBytes()), "--max-key-length", Integer.toString(node.maxKeyLength()),
        "--write-timeout", Long.toString(node.writeTimeout().toSeconds()), "--threads", Integer.toString(node.threads())));
    command.addAll(node.limits().arguments());
    node.defaultTtl().ifPresent(ttl -> command.addAll(List.of("--default-ttl", Long.toString(ttl.toSeconds()))));
    return command;
  }

  /**
   * Launches the node; it answers {@code /health/ready} 503 until it has replayed the log.
   *
   * @throws IllegalStateException when it is running already
   */
  synchronized void start() {
    Process running = process;
    if (running != null && running.isAlive()) {
      throw new IllegalStateException(id + " is already running (pid " + running.pid() + ")");
    }
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(nullFile()));
    NODE_VARIABLES.forEach(builder.environment()::remove);
    try {
      process = builder.start();
      starts = starts + 1;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + id, e);
    }
  }

  /** SIGKILLs the node and waits for it to exit; a no-op when it is not running. */
  synchronized void kill() {
    Process p = process;
    if (p == null) {
      return;
    }
    p.destroyForcibly();
    waitFor(p, KILL_WAIT);
  }

  /**
   * SIGTERMs the node (it answers what it has taken up and closes its Kafka clients), SIGKILLs it
   * if it is still running after its stop grace, and waits.
   */
  synchronized void stop() {
    stopBy(System.nanoTime() + stopGrace.toNanos());
  }

  /**
   * As {@link #stop()}, but SIGKILLs the node if it is still running at {@code deadlineNanos} (a
   * {@link System#nanoTime()} reading): nodes stopped together share one deadline.
   */
  synchronized void stopBy(long deadlineNanos) {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    if (!waitFor(p, Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())))) {
      p.destroyForcibly();
      waitFor(p, KILL_WAIT);
    }
  }

  /** How long {@link #stop()} waits after SIGTERM before it SIGKILLs the node. */
  Duration stopGrace() {
    return stopGrace;
  }

  /** Sends SIGTERM without waiting; for stopping all nodes at once. */
  synchronized void terminate() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroy();
    }
  }

  /** Whether the last process started is running; never blocks. */
  boolean alive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** Returns the pid of the running process, or -1; never blocks. */
  long pid() {
    Process p = process;
    return p != null && p.isAlive() ? p.pid() : -1;
  }

  /** Returns how often the node was started; never blocks. */
  int starts() {
    return starts;
  }

  /** Returns the last process, running or not, or null before the first start; never blocks. */
  @Nullable Process process() {
    return process;
  }

  String url(String host) {
    return "http://" + host + ":" + port;
  }

  private static boolean waitFor(Process p, Duration timeout) {
    try {
      return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static java.io.File nullFile() {
    return new java.io.File(System.getProperty("os.name", "").startsWith("Windows") ? "NUL" : "/dev/null");
  }
}
