package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.servers.KafkaProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The demo cluster: {@code java -jar cluster.jar [options]} starts a Kafka broker in its own JVM,
 * N node JVMs and a round-robin balancer, prints every URL, and takes commands on stdin
 * ({@code kill N}, {@code start N}, {@code stop N}, {@code status}, {@code kafka kill},
 * {@code kafka start}, {@code quit}); the balancer offers the same under {@code /admin}. Ctrl-C
 * stops everything it started.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    versionProvider = ClusterLauncher.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Starts a replicated cache cluster on this machine: a Kafka broker (KRaft, its own JVM; or --kafka to use "
          + "yours), N cache nodes (each its own JVM, java -cp cluster.jar io.cachet.examples.cluster.ClusterNode) "
          + "and a round-robin HTTP balancer that skips nodes that are down or still replaying the log.",
      "Every option can also be set by the environment variable in brackets; the command line wins.",
      ""
    },
    footer = {
      "",
      "Console commands (stdin): kill N | stop N | start N | status | kafka kill | kafka start | quit",
      "Admin endpoints on the balancer: GET /admin/nodes, POST /admin/nodes/{n}/kill|stop|start, "
          + "GET /admin/kafka, POST /admin/kafka/kill|start",
      "Exit codes: 0 normal shutdown, 1 start-up failure, 2 invalid options."
    })
public final class ClusterLauncher implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(ClusterLauncher.class);
  private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
  /** How long the console waits for an admin action's answer. */
  static final Duration CONSOLE_PATIENCE = Duration.ofMinutes(5);

  @Option(names = "--nodes", paramLabel = "N", defaultValue = "${env:NODES:-" + LauncherConfig.DEFAULT_NODES + "}",
      description = "Number of nodes [env NODES]. Default: ${DEFAULT-VALUE}.")
  private String nodes = LauncherConfig.DEFAULT_NODES;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:BALANCER_PORT:-" + LauncherConfig.DEFAULT_PORT + "}",
      description = "Balancer port; 0 = a free port [env BALANCER_PORT]. Default: ${DEFAULT-VALUE}.")
  private String port = LauncherConfig.DEFAULT_PORT;

  @Option(names = "--node-base-port", paramLabel = "PORT",
      defaultValue = "${env:NODE_BASE_PORT:-" + LauncherConfig.DEFAULT_NODE_BASE_PORT + "}",
      description = "Node i listens on this port + i - 1; 0 = free ports [env NODE_BASE_PORT]. Default: ${DEFAULT-VALUE}.")
  private String nodeBasePort = LauncherConfig.DEFAULT_NODE_BASE_PORT;

  @Option(names = "--host", paramLabel = "HOST", defaultValue = "${env:CLUSTER_HOST:-" + NodeConfig.DEFAULT_HOST + "}",
      description = "Address the balancer and the nodes bind [env CLUSTER_HOST]. Default: ${DEFAULT-VALUE}.")
  private String host = NodeConfig.DEFAULT_HOST;

  @Option(names = "--kafka", paramLabel = "HOST:PORT[,...]", defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS}",
      description = "Use this Kafka instead of starting a broker [env KAFKA_BOOTSTRAP_SERVERS].")
  private @Nullable String kafka;

  @Option(names = "--cache", paramLabel = "NAME", defaultValue = "${env:CACHE_NAME:-" + NodeConfig.DEFAULT_CACHE + "}",
      description = "Cache name (topic cachet-<name>) [env CACHE_NAME]. Default: ${DEFAULT-VALUE}.")
  private String cacheName = NodeConfig.DEFAULT_CACHE;

  @Option(names = "--capacity", paramLabel = "KEYS", defaultValue = "${env:CACHE_CAPACITY:-" + NodeConfig.DEFAULT_CAPACITY + "}",
      description = "Most keys per node; a new key beyond it answers 507 [env CACHE_CAPACITY]. Default: ${DEFAULT-VALUE}.")
  private String capacity = NodeConfig.DEFAULT_CAPACITY;

  @Option(names = "--default-ttl", paramLabel = "SECONDS", defaultValue = "${env:DEFAULT_TTL}",
      description = "Time to live of entries written without ?ttl= [env DEFAULT_TTL]. Default: none.")
  private @Nullable String defaultTtl;

  @Option(names = "--max-body", paramLabel = "BYTES", defaultValue = "${env:MAX_BODY_BYTES:-" + NodeConfig.DEFAULT_MAX_BODY + "}",
      description = "Largest request body [env MAX_BODY_BYTES]. Default: ${DEFAULT-VALUE}; at most "
          + NodeConfig.MAX_ENTRY_BYTES + ".")
  private String maxBody = NodeConfig.DEFAULT_MAX_BODY;

  @Option(names = "--max-key-length", paramLabel = "CHARS",
      defaultValue = "${env:MAX_KEY_LENGTH:-" + NodeConfig.DEFAULT_MAX_KEY_LENGTH + "}",
      description = "Longest key in characters [env MAX_KEY_LENGTH]. Default: ${DEFAULT-VALUE}.")
  private String maxKeyLength = NodeConfig.DEFAULT_MAX_KEY_LENGTH;

  @Option(names = "--write-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:WRITE_TIMEOUT:-" + NodeConfig.DEFAULT_WRITE_TIMEOUT + "}",
      description = "How long a node's write may wait for Kafka before answering 503 [env WRITE_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  private String writeTimeout = NodeConfig.DEFAULT_WRITE_TIMEOUT;

  @Option(names = "--request-timeout", paramLabel = "SECONDS", defaultValue = "${env:REQUEST_TIMEOUT}",
      description = "How long the balancer waits for a node [env REQUEST_TIMEOUT]. Default: write timeout + 5.")
  private @Nullable String requestTimeout;

  @Option(names = "--log-dir", paramLabel = "DIR", defaultValue = "${env:LOG_DIR}",
      description = "Directory for the node logs [env LOG_DIR]. Default: a new temporary directory (printed).")
  private @Nullable String logDir;

  @Option(names = "--node-jvm-options", paramLabel = "OPTIONS",
      defaultValue = "${env:NODE_JVM_OPTIONS:-" + LauncherConfig.DEFAULT_NODE_JVM_OPTIONS + "}",
      description = "JVM options of every node [env NODE_JVM_OPTIONS]. Default: ${DEFAULT-VALUE}.")
  private String nodeJvmOptions = LauncherConfig.DEFAULT_NODE_JVM_OPTIONS;

  @Mixin
  private ServerLimitOptions limits = new ServerLimitOptions();

  @Option(names = "--threads", paramLabel = "N", defaultValue = "${env:THREADS}",
      description = "Event-loop threads of the balancer and of each node [env THREADS]. Default: CPUs, at most 4.")
  private @Nullable String threads;

  private final CountDownLatch quit = new CountDownLatch(1);

  /** Runs the cluster until Ctrl-C or {@code quit}; see {@code --help}. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new ClusterLauncher()).execute(args));
  }

  /** Validates the options; separate from {@link #call()} so tests can check messages. */
  LauncherConfig config() {
    LauncherConfig.Builder b = LauncherConfig.builder()
        .nodes(nodes)
        .port(port)
        .nodeBasePort(nodeBasePort)
        .host(host)
        .kafka(kafka)
        .logDirectory(logDir)
        .nodeJvmOptions(nodeJvmOptions)
        .requestTimeout(requestTimeout);
    b.node()
        .cacheName(cacheName)
        .capacity(capacity)
        .defaultTtl(defaultTtl)
        .maxBodyBytes(maxBody)
        .maxKeyLength(maxKeyLength)
        .writeTimeout(writeTimeout);
    limits.applyTo(b.node());
    if (threads != null && !threads.isBlank()) {
      b.threads(threads);
      b.node().threads(threads);
    }
    return b.build();
  }

  /**
   * Holds the balancer's port while the broker and the nodes are given theirs: they are picked
   * from the free ports of the same range, and one of them must not be the balancer's (it would
   * then fail to bind it only after starting them). Null for port 0 (the balancer takes any).
   *
   * @throws IllegalStateException naming the port when it cannot be bound now
   */
  static @Nullable ServerSocket reserve(String host, int port) {
    if (port == 0) {
      return null;
    }
    ServerSocket socket = null;
    try {
      socket = new ServerSocket();
      socket.bind(new InetSocketAddress(host, port), 1);
      return socket;
    } catch (IOException e) {
      closeQuietly(socket);
      throw new IllegalStateException("--port (BALANCER_PORT) " + port + " on " + host + " cannot be bound: "
          + e.getMessage(), e);
    }
  }

  private static void closeQuietly(@Nullable ServerSocket socket) {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing a listening socket that took no connection: nothing to lose
      }
    }
  }

  /** Parses {@code args} into a validated configuration, for tests. */
  static LauncherConfig parse(String... args) {
    ClusterLauncher command = new ClusterLauncher();
    new CommandLine(command).parseArgs(args);
    return command.config();
  }

  @Override
  public Integer call() {
    LauncherConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      PrintWriter err = new PrintWriter(System.err, true);
      err.println("cluster: invalid option: " + e.getMessage());
      err.println("Run java -jar cluster.jar --help for the options.");
      return 2;
    }
    PrintStream out = System.out;
    long startNanos = System.nanoTime();
    ServerSocket reservation;
    try {
      reservation = reserve(config.host(), config.port());
    } catch (IllegalStateException e) {
      log.error("cluster could not start the balancer: {}", e.getMessage());
      return 1;
    }
    Cluster cluster;
    try {
      cluster = Cluster.create(config);
    } catch (RuntimeException e) {
      log.error("cluster could not start Kafka: {}", e.getMessage());
      closeQuietly(reservation);
      return 1;
    }
    closeQuietly(reservation); // the balancer binds it next
    Balancer balancer;
    try {
      balancer = Balancer.start(config.host(), config.port(), cluster.backends(), cluster,
          config.node().maxBodyBytes(), config.requestTimeout(), config.threads(), config.node().limits());
    } catch (RuntimeException e) {
      log.error("cluster could not start the balancer: {}", e.getMessage());
      cluster.close();
      return 1;
    }
    Thread hook = new Thread(() -> {
      balancer.close();
      cluster.close();
    }, "cluster-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    cluster.startNodes();

    KafkaProcess broker = cluster.broker();
    out.println("Cachet replicated cache cluster");
    out.println("  kafka     " + cluster.kafka() + (broker != null
        ? " (broker JVM pid " + broker.pid() + ", log " + broker.logFile() + ")" : " (external)"));
    for (NodeProcess node : cluster.nodes()) {
      out.println("  " + node.id + "    " + node.url(config.host()) + "  (pid " + node.pid() + ", log " + node.logFile
          + ")");
    }
    out.println("  balancer  " + balancer.url());
    out.println("  logs      " + cluster.logDirectory());
    out.println("balancer listening on " + balancer.url());
    out.flush();

    Thread console = new Thread(() -> console(cluster, out), "cluster-console");
    console.setDaemon(true);
    console.start();

    awaitReady(cluster, balancer.url(), out, startNanos);
    try {
      quit.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    out.println("Stopping the cluster...");
    balancer.close();
    cluster.close();
    return 0;
  }

  private void awaitReady(Cluster cluster, String balancerUrl, PrintStream out, long startNanos) {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    try {
      while (!cluster.backends().stream().allMatch(Backend::ready)) {
        if (System.nanoTime() - deadline > 0 || quit.await(100, TimeUnit.MILLISECONDS)) {
          if (quit.getCount() > 0) {
            out.println("Not every node is ready after " + READY_TIMEOUT.toSeconds() + " s; see the logs in "
                + cluster.logDirectory());
          }
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    out.printf(Locale.ROOT, "cluster ready in %.1f s. Try:%n", (System.nanoTime() - startNanos) / 1e9);
    out.println("  curl -i -X POST -H 'Content-Type: application/json' -d '{\"hello\":\"world\"}' "
        + balancerUrl + "/api/cache/greeting");
    out.println("  curl -i " + balancerUrl + "/api/cache/greeting");
    out.println("Commands: kill N | stop N | start N | status | kafka kill | kafka start | quit");
    out.flush();
  }

  private void console(Cluster cluster, PrintStream out) {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, UTF_8));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String[] words = line.trim().toLowerCase(Locale.ROOT).split("\\s+");
        if (words.length == 0 || words[0].isEmpty()) {
          continue;
        }
        String result = command(cluster, words);
        if (result == null) {
          quit.countDown();
          return;
        }
        out.println(result);
        out.flush();
      }
    } catch (IOException e) {
      // stdin closed: keep running until Ctrl-C
    }
  }

  /** Runs one console command; returns what to print, or null for {@code quit}. */
  static @Nullable String command(ClusterControl control, String[] words) {
    try {
      switch (words[0]) {
        case "quit", "exit" -> {
          return null;
        }
        case "status" -> {
          return control.nodesJson() + "\n" + control.kafkaJson();
        }
        case "kill", "start", "stop" -> {
          if (words.length != 2 || !words[1].matches("[0-9]{1,3}")) {
            return "usage: " + words[0] + " N (a node number)";
          }
          int n = Integer.parseInt(words[1]);
          CompletionStage<ApiResponse> stage = switch (words[0]) {
            case "kill" -> control.killNode(n);
            case "stop" -> control.stopNode(n);
            default -> control.startNode(n);
          };
          return awaitAdmin(stage);
        }
        case "kafka" -> {
          if (words.length != 2 || !(words[1].equals("kill") || words[1].equals("start"))) {
            return "usage: kafka kill | kafka start";
          }
          CompletionStage<ApiResponse> stage = words[1].equals("kill") ? control.killKafka() : control.startKafka();
          return awaitAdmin(stage);
        }
        default -> {
          return "unknown command '" + words[0] + "'; commands: kill N | stop N | start N | status | kafka kill | "
              + "kafka start | quit";
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } catch (Exception e) {
      return "failed: " + e.getMessage();
    }
  }

  /**
   * Waits for an admin action's answer. A {@code stop N} takes at most the node's stop grace (2 min
   * 21 s with the longest write timeout) plus 15 s for a SIGKILL to take effect, and the actions
   * run one at a time, so the console waits 5 min before it gives up on the answer (the action
   * goes on).
   */
  private static String awaitAdmin(CompletionStage<ApiResponse> stage) throws Exception {
    try {
      return stage.toCompletableFuture().get(CONSOLE_PATIENCE.toMinutes(), TimeUnit.MINUTES).body();
    } catch (TimeoutException e) {
      return "still running after " + CONSOLE_PATIENCE.toMinutes() + " min; see status";
    }
  }

  /** Reports the jar's version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = ClusterLauncher.class.getPackage().getImplementationVersion();
      return new String[] {"cluster " + (version == null ? "(development build)" : version)};
    }
  }
}
