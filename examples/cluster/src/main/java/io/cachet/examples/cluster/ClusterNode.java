package io.cachet.examples.cluster;

import java.io.PrintWriter;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * One cache node: {@code java -cp cluster.jar io.cachet.examples.cluster.ClusterNode [options]}.
 * Every option also reads an environment variable; a command-line value wins.
 */
@Command(
    name = "cluster-node",
    mixinStandardHelpOptions = true,
    versionProvider = ClusterNode.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "One node of a replicated cache cluster: a REST API (POST/GET/DELETE /api/cache/{key}) over an in-memory "
          + "cache that every node holds in full, replicated through a Kafka topic (Cachet's replicated-kafka "
          + "backend). A write is answered once it is in the Kafka log and applied here.",
      "Run it as: java -cp cluster.jar io.cachet.examples.cluster.ClusterNode [options]",
      "Every option can also be set by the environment variable in brackets; the command line wins.",
      ""
    },
    footer = {
      "",
      "Endpoints: POST /api/cache/{key}[?ttl=SECONDS] (JSON body), GET and DELETE /api/cache/{key}, "
          + "GET /health/live, GET /health/ready (503 until the log is replayed), GET /metrics (Prometheus).",
      "Exit codes: 0 normal shutdown, 1 start-up failure (e.g. port taken), 2 invalid options."
    })
public final class ClusterNode implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);

  @Option(names = "--kafka", paramLabel = "HOST:PORT[,...]",
      defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-" + NodeConfig.DEFAULT_KAFKA + "}",
      description = "Kafka bootstrap servers [env KAFKA_BOOTSTRAP_SERVERS]. Default: ${DEFAULT-VALUE}.")
  private String kafka = NodeConfig.DEFAULT_KAFKA;

  @Option(names = "--node-id", paramLabel = "ID", defaultValue = "${env:NODE_ID}",
      description = "This node's id, 1-64 of [a-zA-Z0-9._-]; sent as X-Cachet-Node [env NODE_ID]. "
          + "Default: node-<port>.")
  private @Nullable String nodeId;

  @Option(names = "--host", paramLabel = "HOST", defaultValue = "${env:NODE_HOST:-" + NodeConfig.DEFAULT_HOST + "}",
      description = "Address the HTTP server binds; 0.0.0.0 for all [env NODE_HOST]. Default: ${DEFAULT-VALUE}.")
  private String host = NodeConfig.DEFAULT_HOST;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:NODE_PORT:-" + NodeConfig.DEFAULT_PORT + "}",
      description = "HTTP port; 0 = a free port (the bound URL is printed) [env NODE_PORT]. Default: ${DEFAULT-VALUE}.")
  private String port = NodeConfig.DEFAULT_PORT;

  @Option(names = "--cache", paramLabel = "NAME", defaultValue = "${env:CACHE_NAME:-" + NodeConfig.DEFAULT_CACHE + "}",
      description = "Cache name; every node of a cluster uses the same one (topic cachet-<name>) [env CACHE_NAME]. "
          + "Default: ${DEFAULT-VALUE}.")
  private String cacheName = NodeConfig.DEFAULT_CACHE;

  @Option(names = "--capacity", paramLabel = "KEYS",
      defaultValue = "${env:CACHE_CAPACITY:-" + NodeConfig.DEFAULT_CAPACITY + "}",
      description = "Most keys held; writing a new key beyond it answers 507 [env CACHE_CAPACITY]. Default: ${DEFAULT-VALUE}.")
  private String capacity = NodeConfig.DEFAULT_CAPACITY;

  @Option(names = "--default-ttl", paramLabel = "SECONDS", defaultValue = "${env:DEFAULT_TTL}",
      description = "Time to live of entries written without ?ttl= [env DEFAULT_TTL]. Default: none (until deleted).")
  private @Nullable String defaultTtl;

  @Option(names = "--max-body", paramLabel = "BYTES",
      defaultValue = "${env:MAX_BODY_BYTES:-" + NodeConfig.DEFAULT_MAX_BODY + "}",
      description = "Largest request body; larger is answered 413 [env MAX_BODY_BYTES]. Default: ${DEFAULT-VALUE}; "
          + "at most " + NodeConfig.MAX_ENTRY_BYTES + " (a value is one Kafka record).")
  private String maxBody = NodeConfig.DEFAULT_MAX_BODY;

  @Option(names = "--max-key-length", paramLabel = "CHARS",
      defaultValue = "${env:MAX_KEY_LENGTH:-" + NodeConfig.DEFAULT_MAX_KEY_LENGTH + "}",
      description = "Longest key in characters; longer is answered 400 [env MAX_KEY_LENGTH]. Default: ${DEFAULT-VALUE}.")
  private String maxKeyLength = NodeConfig.DEFAULT_MAX_KEY_LENGTH;

  @Option(names = "--write-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:WRITE_TIMEOUT:-" + NodeConfig.DEFAULT_WRITE_TIMEOUT + "}",
      description = "How long a write may wait for Kafka before it is answered 503 [env WRITE_TIMEOUT]. "
          + "Default: ${DEFAULT-VALUE}.")
  private String writeTimeout = NodeConfig.DEFAULT_WRITE_TIMEOUT;

  @Mixin
  private ServerLimitOptions limits = new ServerLimitOptions();

  @Option(names = "--threads", paramLabel = "N", defaultValue = "${env:THREADS}",
      description = "Event-loop threads serving clients [env THREADS]. Default: the number of CPUs, at most 4.")
  private @Nullable String threads;

  @Option(names = "--exit-with-parent", hidden = true, paramLabel = "PID",
      description = "Exit when process PID (the launcher, which sets it so that no node outlives it) exits,"
          + " at once if it has already.")
  private @Nullable Long exitWithParent;

  /** Runs the node until it is stopped (SIGTERM, Ctrl-C); see {@code --help}. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new ClusterNode()).execute(args));
  }

  /** Validates the options; separate from {@link #call()} so tests can check messages. */
  NodeConfig config() {
    NodeConfig.Builder b = NodeConfig.builder()
        .kafka(kafka)
        .host(host)
        .port(port)
        .cacheName(cacheName)
        .capacity(capacity)
        .defaultTtl(defaultTtl)
        .maxBodyBytes(maxBody)
        .maxKeyLength(maxKeyLength)
        .writeTimeout(writeTimeout)
        .nodeId(nodeId);
    limits.applyTo(b);
    if (threads != null && !threads.isBlank()) {
      b.threads(threads);
    }
    return b.build();
  }

  /** Parses {@code args} into a validated configuration, for tests. */
  static NodeConfig parse(String... args) {
    ClusterNode command = new ClusterNode();
    new CommandLine(command).parseArgs(args);
    return command.config();
  }

  @Override
  public Integer call() {
    NodeConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      PrintWriter err = new PrintWriter(System.err, true);
      err.println("cluster-node: invalid option: " + e.getMessage());
      err.println("Run java -cp cluster.jar io.cachet.examples.cluster.ClusterNode --help for the options.");
      return 2;
    }
    if (exitWithParent != null) {
      // Watched by its pid, not as this process's parent: a launcher killed before this JVM got
      // here would already be replaced by init as the parent, and the node would run on alone.
      Optional<ProcessHandle> launcher = ProcessHandle.of(exitWithParent).filter(ProcessHandle::isAlive);
      if (launcher.isEmpty()) {
        log.error("The launcher (pid {}) has already exited; not starting", exitWithParent);
        return 1;
      }
      launcher.get().onExit().thenRun(() -> {
        log.warn("The launcher (pid {}) exited; stopping", exitWithParent);
        System.exit(0);
      });
    }
    NodeServer server;
    try {
      server = NodeServer.start(config, ReplicatedNodeCache::open, InstantSource.system());
    } catch (RuntimeException e) {
      log.error("cluster-node could not start: {}", e.getMessage());
      log.debug("Start-up failure", e);
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "cluster-node-shutdown"));
    // One line on stdout for scripts and the launcher; the rest goes to the log (stderr).
    System.out.println("cluster node " + config.nodeId() + " listening on " + server.url()
        + " (Kafka " + config.kafka() + ", cache " + config.cacheName() + ", " + NettyTransport.name() + ")");
    System.out.flush();
    log.info("Node {} listening on {}; opening cache '{}' on Kafka {} (capacity {} keys, default TTL {}, "
            + "max body {} bytes, max key {} characters, write timeout {} s)",
        config.nodeId(), server.url(), config.cacheName(), config.kafka(), config.capacity(),
        config.defaultTtl().map(d -> d.toSeconds() + " s").orElse("none"), config.maxBodyBytes(),
        config.maxKeyLength(), config.writeTimeout().toSeconds());
    server.awaitClose();
    return 0;
  }

  /** Reports the jar's version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = ClusterNode.class.getPackage().getImplementationVersion();
      return new String[] {"cluster-node " + (version == null ? "(development build)" : version)};
    }
  }
}
