package io.cachet.examples.proxy;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The command line: {@code java -jar redis-proxy.jar [options]}. Every option also reads an
 * environment variable; a command-line value wins over the environment.
 */
@Command(
    name = "redis-proxy",
    mixinStandardHelpOptions = true,
    versionProvider = RedisProxy.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "A transparent caching Redis proxy: GET /proxy?key=K over HTTP and GET/MGET over the Redis protocol, "
          + "answered from an exact-LRU cache in front of one backing Redis (Cachet's redis backend). "
          + "Without --redis-address it starts an embedded Redis on 127.0.0.1 and a free port.",
      "Every option can also be set by the environment variable in brackets; the command line wins.",
      ""
    },
    footer = {
      "",
      "Durations are in seconds and may have decimals (0.5). Invalid values are rejected at start-up.",
      "Exit codes: 0 normal shutdown, 1 start-up failure (e.g. Redis unreachable, port taken), 2 invalid options."
    })
public final class RedisProxy implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(RedisProxy.class);

  @Option(names = "--redis-address", paramLabel = "HOST:PORT", defaultValue = "${env:REDIS_ADDRESS}",
      description = "Backing Redis [env REDIS_ADDRESS]. Unset: start an embedded Redis.")
  private @Nullable String redisAddress;

  @Option(names = "--global-cache-expiry", paramLabel = "SECONDS",
      defaultValue = "${env:GLOBAL_CACHE_EXPIRY:-" + ProxyConfig.DEFAULT_GLOBAL_EXPIRY + "}",
      description = "How long a value read from Redis is served from the cache [env GLOBAL_CACHE_EXPIRY]. Default: ${DEFAULT-VALUE}.")
  private String globalExpiry = ProxyConfig.DEFAULT_GLOBAL_EXPIRY;

  @Option(names = "--cache-capacity", paramLabel = "KEYS",
      defaultValue = "${env:CACHE_CAPACITY:-" + ProxyConfig.DEFAULT_CAPACITY + "}",
      description = "Cache capacity in keys; the least recently read key is evicted [env CACHE_CAPACITY]. Default: ${DEFAULT-VALUE}.")
  private String capacity = ProxyConfig.DEFAULT_CAPACITY;

  @Option(names = "--proxy-host", paramLabel = "HOST",
      defaultValue = "${env:PROXY_HOST:-" + ProxyConfig.DEFAULT_HOST + "}",
      description = "Address the HTTP and RESP servers bind; 0.0.0.0 for all [env PROXY_HOST]. Default: ${DEFAULT-VALUE}.")
  private String host = ProxyConfig.DEFAULT_HOST;

  @Option(names = "--proxy-port", paramLabel = "PORT",
      defaultValue = "${env:PROXY_PORT:-" + ProxyConfig.DEFAULT_HTTP_PORT + "}",
      description = "HTTP port [env PROXY_PORT]. Default: ${DEFAULT-VALUE}.")
  private String httpPort = ProxyConfig.DEFAULT_HTTP_PORT;

  @Option(names = "--resp-port", paramLabel = "PORT",
      defaultValue = "${env:RESP_PORT:-" + ProxyConfig.DEFAULT_RESP_PORT + "}",
      description = "Redis-protocol port; 0 = off [env RESP_PORT]. Default: ${DEFAULT-VALUE}.")
  private String respPort = ProxyConfig.DEFAULT_RESP_PORT;

  @Option(names = "--max-clients", paramLabel = "N",
      defaultValue = "${env:MAX_CLIENTS:-" + ProxyConfig.DEFAULT_MAX_CLIENTS + "}",
      description = "Most concurrent client connections, HTTP and RESP together; more are refused [env MAX_CLIENTS]. Default: ${DEFAULT-VALUE}.")
  private String maxClients = ProxyConfig.DEFAULT_MAX_CLIENTS;

  @Option(names = "--parallelism", paramLabel = "N",
      defaultValue = "${env:PARALLELISM:-" + ProxyConfig.DEFAULT_PARALLELISM + "}",
      description = "Most cache requests processed at once, across all clients; others wait in order. "
          + "1 = sequential; 0 = no limit [env PARALLELISM]. Default: ${DEFAULT-VALUE}.")
  private String parallelism = ProxyConfig.DEFAULT_PARALLELISM;

  @Option(names = "--coherence", paramLabel = "MODE",
      defaultValue = "${env:COHERENCE:-" + ProxyConfig.DEFAULT_COHERENCE + "}",
      description = "tracking: a value changed in Redis is never served stale (CLIENT TRACKING); "
          + "expiry: cached values live for the global expiry, even if Redis changes them (plain TTL caching) [env COHERENCE]. Default: ${DEFAULT-VALUE}.")
  private String coherence = ProxyConfig.DEFAULT_COHERENCE;

  @Option(names = "--seed", paramLabel = "N",
      defaultValue = "${env:SEED:-" + ProxyConfig.DEFAULT_SEED + "}",
      description = "Write seeded_key1..N = seeded_value1..N into the embedded Redis at start-up [env SEED]. Default: ${DEFAULT-VALUE}.")
  private String seed = ProxyConfig.DEFAULT_SEED;

  @Option(names = "--max-request-bytes", paramLabel = "BYTES",
      defaultValue = "${env:MAX_REQUEST_BYTES:-" + ProxyConfig.DEFAULT_MAX_REQUEST_BYTES + "}",
      description = "Largest RESP request (a command with its arguments); larger is a protocol error [env MAX_REQUEST_BYTES]. Default: ${DEFAULT-VALUE}.")
  private String maxRequestBytes = ProxyConfig.DEFAULT_MAX_REQUEST_BYTES;

  @Option(names = "--redis-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:REDIS_TIMEOUT:-" + ProxyConfig.DEFAULT_REDIS_TIMEOUT + "}",
      description = "Time limit of one Redis command; commands are not retried, so a failed read answers 503 / -ERR within about this + 0.25 s [env REDIS_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  private String redisTimeout = ProxyConfig.DEFAULT_REDIS_TIMEOUT;

  @Option(names = "--request-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:REQUEST_TIMEOUT:-" + ProxyConfig.DEFAULT_REQUEST_TIMEOUT + "}",
      description = "A client that starts a request must finish sending it within this time or is disconnected [env REQUEST_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  private String requestTimeout = ProxyConfig.DEFAULT_REQUEST_TIMEOUT;

  @Option(names = "--idle-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:IDLE_TIMEOUT:-" + ProxyConfig.DEFAULT_IDLE_TIMEOUT + "}",
      description = "Disconnect RESP clients silent for this long; 0 = never, as Redis's timeout 0 [env IDLE_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  private String idleTimeout = ProxyConfig.DEFAULT_IDLE_TIMEOUT;

  @Option(names = "--http-idle-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:HTTP_IDLE_TIMEOUT:-" + ProxyConfig.DEFAULT_HTTP_IDLE_TIMEOUT + "}",
      description = "Disconnect HTTP clients (kept-alive connections) silent for this long; 0 = never [env HTTP_IDLE_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  private String httpIdleTimeout = ProxyConfig.DEFAULT_HTTP_IDLE_TIMEOUT;

  @Option(names = "--max-pending-requests", paramLabel = "N",
      defaultValue = "${env:MAX_PENDING_REQUESTS:-" + ProxyConfig.DEFAULT_MAX_PENDING_REQUESTS + "}",
      description = "Unanswered keys one connection may have (a GET counts 1, an MGET its keys; an MGET of more is refused); "
          + "at this many the proxy stops reading it until half are answered "
          + "[env MAX_PENDING_REQUESTS]. Default: ${DEFAULT-VALUE}.")
  private String maxPendingRequests = ProxyConfig.DEFAULT_MAX_PENDING_REQUESTS;

  @Option(names = "--max-queued-reply-bytes", paramLabel = "BYTES",
      defaultValue = "${env:MAX_QUEUED_REPLY_BYTES:-" + ProxyConfig.DEFAULT_MAX_QUEUED_REPLY_BYTES + "}",
      description = "Reply bytes queued for one connection that does not read them; at this many the proxy takes no further "
          + "request from it until it has read half [env MAX_QUEUED_REPLY_BYTES]. Default: ${DEFAULT-VALUE}.")
  private String maxQueuedReplyBytes = ProxyConfig.DEFAULT_MAX_QUEUED_REPLY_BYTES;

  @Option(names = "--reply-stall-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:REPLY_STALL_TIMEOUT:-" + ProxyConfig.DEFAULT_REPLY_STALL_TIMEOUT + "}",
      description = "Disconnect a client (RESP or HTTP) that has replies waiting and takes none of their bytes for this long, "
          + "so one that stops reading cannot hold its slot and queued replies for ever; 0 = never "
          + "[env REPLY_STALL_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  private String replyStallTimeout = ProxyConfig.DEFAULT_REPLY_STALL_TIMEOUT;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "${env:THREADS}",
      description = "Event-loop threads serving clients [env THREADS]. Default: the number of CPUs.")
  private @Nullable String threads;

  /** Runs the proxy until it is stopped (SIGTERM, Ctrl-C); see {@code --help}. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Parses {@code args}, runs the proxy until it stops, and returns the exit code. */
  static int run(String... args) {
    return new CommandLine(new RedisProxy()).execute(args);
  }

  /** Validates the options; separate from {@link #call()} so tests can check messages. */
  ProxyConfig config() {
    ProxyConfig.Builder b = ProxyConfig.builder()
        .redisAddress(redisAddress)
        .globalExpiry(globalExpiry)
        .capacity(capacity)
        .host(host)
        .httpPort(httpPort)
        .respPort(respPort)
        .maxClients(maxClients)
        .parallelism(parallelism)
        .coherence(coherence)
        .seed(seed)
        .maxRequestBytes(maxRequestBytes)
        .redisTimeout(redisTimeout)
        .requestTimeout(requestTimeout)
        .idleTimeout(idleTimeout)
        .httpIdleTimeout(httpIdleTimeout)
        .maxPendingRequests(maxPendingRequests)
        .maxQueuedReplyBytes(maxQueuedReplyBytes)
        .replyStallTimeout(replyStallTimeout);
    if (threads != null && !threads.isBlank()) {
      b.threads(threads);
    }
    return b.build();
  }

  /** Parses {@code args} into a validated configuration, for tests. */
  static ProxyConfig parse(String... args) {
    RedisProxy command = new RedisProxy();
    new CommandLine(command).parseArgs(args);
    return command.config();
  }

  @Override
  public Integer call() {
    ProxyConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      PrintWriter err = new PrintWriter(System.err, true);
      err.println("redis-proxy: invalid option: " + e.getMessage());
      err.println("Run java -jar redis-proxy.jar --help for the options.");
      return 2;
    }
    ProxyServer server;
    try {
      server = ProxyServer.start(config);
    } catch (RuntimeException e) {
      log.error("redis-proxy could not start: {}", e.getMessage());
      log.debug("Start-up failure", e);
      return 1;
    }
    Thread hook = new Thread(server::close, "redis-proxy-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    server.awaitClose();
    return 0;
  }

  /** Reports the jar's version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = RedisProxy.class.getPackage().getImplementationVersion();
      return new String[] {"redis-proxy " + (version == null ? "(development build)" : version)};
    }
  }
}
