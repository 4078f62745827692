package io.cachet.examples.cluster;

import io.cachet.examples.support.Json;
import io.cachet.servers.KafkaProcess;
import io.cachet.servers.Ports;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processes of a demo cluster: a Kafka broker in its own JVM (unless an existing Kafka is
 * given) and N node JVMs, all started from this jar's class path. Also the {@link ClusterControl}
 * behind the balancer's {@code /admin} endpoints and the console commands; those actions run one
 * at a time on an admin thread. Only processes started here are ever signalled. Thread-safe;
 * {@code close} is idempotent.
 */
final class Cluster implements ClusterControl, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);

  private final LauncherConfig config;
  private final @Nullable KafkaProcess broker;
  private final String kafka;
  private final Path logDirectory;
  private final List<NodeProcess> nodes;
  private final List<Backend> backends;
  private final ExecutorService admin = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "cluster-admin");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean closed;

  private Cluster(LauncherConfig config, @Nullable KafkaProcess broker, String kafka, Path logDirectory,
      List<NodeProcess> nodes) {
    this.config = config;
    this.broker = broker;
    this.kafka = kafka;
    this.logDirectory = logDirectory;
    this.nodes = List.copyOf(nodes);
    this.backends = nodes.stream()
        .map(n -> new Backend(n.index, n.id, config.node().host(), n.port))
        .toList();
  }

  /**
   * Starts the broker (unless {@code --kafka} names one) and prepares the nodes, without starting them.
   *
   * @throws IllegalStateException when the broker does not start
   */
  static Cluster create(LauncherConfig config) {
    Path logDirectory;
    try {
      logDirectory = config.logDirectory().isPresent()
          ? Files.createDirectories(config.logDirectory().get())
          : Files.createTempDirectory("cachet-cluster-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the log directory", e);
    }
    String classpath = absoluteClasspath();
    KafkaProcess broker = null;
    String kafka;
    if (config.kafka().isPresent()) {
      kafka = config.kafka().get();
    } else {
      broker = KafkaProcess.builder().classpath(classpath).build();
      log.info("Starting a Kafka broker (KRaft, its own JVM); log {}", broker.logFile());
      broker.start();
      kafka = broker.bootstrapServers();
    }
    List<NodeProcess> nodes = new ArrayList<>();
    int[] ports = config.nodeBasePort() == 0 ? Ports.free(config.node().host(), config.nodes()) : null;
    for (int i = 1; i <= config.nodes(); i++) {
      String id = "node-" + i;
      int port = ports != null ? ports[i - 1] : config.nodeBasePort() + i - 1;
      nodes.add(new NodeProcess(i, id, port, logDirectory.resolve(id + ".log"),
          NodeProcess.command(classpath, config.nodeJvmOptions(), config.node(), kafka, id, port),
          NodeProcess.stopGrace(config.node())));
    }
    return new Cluster(config, broker, kafka, logDirectory, nodes);
  }

  /** Launches every node at once; each replays the log and then reports ready. */
  void startNodes() {
    nodes.forEach(NodeProcess::start);
  }

  List<Backend> backends() {
    return backends;
  }

  List<NodeProcess> nodes() {
    return nodes;
  }

  String kafka() {
    return kafka;
  }

  @Nullable KafkaProcess broker() {
    return broker;
  }

  Path logDirectory() {
    return logDirectory;
  }

  /** Never blocks: the status queries of {@link NodeProcess} take no lock, a stop in progress holds none up. */
  @Override
  public String nodesJson() {
    return nodes.stream().map(n -> {
      Backend b = backends.get(n.index - 1);
      long pid = n.pid();
      boolean alive = pid >= 0;
      return "{\"index\":" + n.index + ",\"id\":" + Json.quote(n.id) + ",\"url\":" + Json.quote(b.url())
          + ",\"pid\":" + pid + ",\"alive\":" + alive + ",\"ready\":" + (alive && b.ready())
          + ",\"starts\":" + n.starts() + ",\"log\":" + Json.quote(n.logFile.toString()) + "}";
    }).collect(Collectors.joining(",", "{\"nodes\":[", "]}"));
  }

  @Override
  public String kafkaJson() {
    KafkaProcess b = broker;
    if (b == null) {
      return "{\"bootstrap\":" + Json.quote(kafka) + ",\"embedded\":false}";
    }
    long pid;
    try {
      pid = b.pid();
    } catch (IllegalStateException e) {
      pid = -1; // not running, or it exited just now
    }
    return "{\"bootstrap\":" + Json.quote(kafka) + ",\"embedded\":true,\"running\":" + (pid >= 0)
        + ",\"pid\":" + pid + ",\"log\":" + Json.quote(b.logFile().toString()) + "}";
  }

  @Override
  public CompletionStage<ApiResponse> killNode(int n) {
    return onAdmin(() -> withNode(n, node -> {
      backends.get(n - 1).ready(false);
      node.kill();
      log.info("Killed {} (SIGKILL)", node.id);
      return ApiResponse.json("admin", 200, "{\"message\":" + Json.quote(node.id + " killed (SIGKILL)") + "}");
    }));
  }

  @Override
  public CompletionStage<ApiResponse> stopNode(int n) {
    return onAdmin(() -> withNode(n, node -> {
      backends.get(n - 1).ready(false);
      node.stop();
      log.info("Stopped {} (SIGTERM)", node.id);
      return ApiResponse.json("admin", 200, "{\"message\":" + Json.quote(node.id + " stopped") + "}");
    }));
  }

  @Override
  public CompletionStage<ApiResponse> startNode(int n) {
    return onAdmin(() -> withNode(n, node -> {
      if (node.alive()) {
        return ApiResponse.error("admin", 409, "Conflict", node.id + " is already running (pid " + node.pid() + ")");
      }
      node.start();
      log.info("Started {} (pid {}); it serves once it has replayed the log", node.id, node.pid());
      return ApiResponse.json("admin", 202, "{\"message\":" + Json.quote(node.id + " started; ready after replay")
          + ",\"url\":" + Json.quote(node.url(config.node().host())) + ",\"pid\":" + node.pid() + "}");
    }));
  }

  @Override
  public CompletionStage<ApiResponse> killKafka() {
    return onAdmin(() -> {
      KafkaProcess b = broker;
      if (b == null) {
        return ApiResponse.error("admin", 409, "Conflict", "Kafka " + kafka + " was not started by the launcher");
      }
      b.kill();
      log.info("Killed the Kafka broker (SIGKILL)");
      return ApiResponse.json("admin", 200, "{\"message\":\"Kafka broker killed (SIGKILL)\"}");
    });
  }

  @Override
  public CompletionStage<ApiResponse> startKafka() {
    return onAdmin(() -> {
      KafkaProcess b = broker;
      if (b == null) {
        return ApiResponse.error("admin", 409, "Conflict", "Kafka " + kafka + " was not started by the launcher");
      }
      if (b.isRunning()) {
        return ApiResponse.error("admin", 409, "Conflict", "the Kafka broker is already running");
      }
      b.start();
      log.info("Restarted the Kafka broker on {}", kafka);
      return ApiResponse.json("admin", 200, "{\"message\":\"Kafka broker started\",\"bootstrap\":"
          + Json.quote(kafka) + "}");
    });
  }

  private ApiResponse withNode(int n, java.util.function.Function<NodeProcess, ApiResponse> action) {
    if (n < 1 || n > nodes.size()) {
      return ApiResponse.error("admin", 404, "NotFound", "no node " + n + "; nodes are 1.." + nodes.size());
    }
    return action.apply(nodes.get(n - 1));
  }

  private CompletionStage<ApiResponse> onAdmin(Supplier<ApiResponse> action) {
    if (closed) {
      return CompletableFuture.completedFuture(
          ApiResponse.error("admin", 503, "ShuttingDown", "the cluster is shutting down"));
    }
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return action.get();
        } catch (RuntimeException e) {
          log.warn("Admin action failed", e);
          return ApiResponse.error("admin", 500, "AdminActionFailed", e.getMessage() == null ? e.toString()
              : e.getMessage());
        }
      }, admin);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return CompletableFuture.completedFuture(
          ApiResponse.error("admin", 503, "ShuttingDown", "the cluster is shutting down"));
    }
  }

  /**
   * Stops every node (SIGTERM, all at once; SIGKILL for those still running {@code
   * --write-timeout} + 21 s later), then the broker.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    admin.shutdownNow();
    backends.forEach(b -> b.ready(false));
    nodes.forEach(NodeProcess::terminate);
    // One deadline for all: each node has had its whole grace since the SIGTERM above.
    long deadline = System.nanoTime() + NodeProcess.stopGrace(config.node()).toNanos();
    nodes.forEach(node -> node.stopBy(deadline));
    KafkaProcess b = broker;
    if (b != null) {
      b.close();
    }
  }

  /** This JVM's class path with absolute entries, so child JVMs in other directories can use it. */
  static String absoluteClasspath() {
    String classpath = System.getProperty("java.class.path", "");
    return Arrays.stream(classpath.split(File.pathSeparator))
        .filter(s -> !s.isBlank())
        .map(s -> Path.of(s).toAbsolutePath().normalize().toString())
        .collect(Collectors.joining(File.pathSeparator));
  }
}
