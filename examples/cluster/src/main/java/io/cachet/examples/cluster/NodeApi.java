package io.cachet.examples.cluster;

import io.cachet.AsyncCache;
import io.cachet.BackendUnavailableException;
import io.cachet.CacheNotReadyException;
import io.cachet.CacheTimeoutException;
import io.cachet.examples.support.Json;
import io.cachet.examples.support.RequestTargets;
import io.cachet.replicated.ReplicaFullException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's HTTP API, independent of Netty: takes a complete request and returns its response.
 *
 * <ul>
 *   <li>{@code POST /api/cache/{key}[?ttl=SECONDS]}, body a JSON string, number, object or array:
 *       201 once the write is in the Kafka log and applied here;
 *   <li>{@code GET /api/cache/{key}}: 200 with {@code {key, value, last_updated_at}}, or 404;
 *   <li>{@code DELETE /api/cache/{key}}: 200 when a live entry was removed, else 404;
 *   <li>{@code GET /health/live}, {@code GET /health/ready} (503 with replay progress until the
 *       replica is ready), {@code GET /metrics}.
 * </ul>
 *
 * <p>A value is written to Kafka as one record: an entry (key and value in compact JSON, with its
 * timestamp) over {@link NodeConfig#MAX_ENTRY_BYTES}, or one Kafka refuses as too large, gets 413.
 *
 * <p>Bad input gets a 4xx with {@code {"error":..,"message":..}} and changes nothing. Until the
 * replica is ready, cache requests get 503 with {@code Retry-After: 1}. Cache operations use only
 * the non-blocking {@link AsyncCache} view, so no caller thread ever blocks. Thread-safe.
 */
final class NodeApi {

  private static final Logger log = LoggerFactory.getLogger(NodeApi.class);
  private static final String API_PREFIX = "/api/cache";
  private static final String ALLOW_API = "GET, POST, DELETE";
  private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int MAX_KEY_IN_MESSAGE = 100;

  static final String ROUTE_API = "api_cache";
  static final String ROUTE_LIVE = "health_live";
  static final String ROUTE_READY = "health_ready";
  static final String ROUTE_METRICS = "metrics";
  static final String ROUTE_OTHER = "other";

  /** A complete request: method, target, {@code Content-Type} (null when absent) and body. */
  record Request(String method, String uri, @Nullable String contentType, byte[] body) {}

  private final NodeConfig config;
  private final Supplier<@Nullable NodeCache> cache;
  private final Supplier<String> metrics;
  private final InstantSource clock;
  private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);
  /** Requests taken up and not yet answered on their connection ({@link #started}, {@link #answered}). */
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Set once the node shuts down: cache requests and readiness answer 503 from then on. */
  private volatile boolean stopping;

  /**
   * @param cache the node's cache, or null while it is being opened
   * @param metrics renders {@code /metrics}
   * @param clock stamps {@code last_updated_at}
   */
  NodeApi(NodeConfig config, Supplier<@Nullable NodeCache> cache, Supplier<String> metrics, InstantSource clock) {
    this.config = config;
    this.cache = cache;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** Counts a request a connection takes up; it calls {@link #answered} once its answer is written. */
  void started() {
    inFlight.incrementAndGet();
  }

  /** Counts a request answered (its answer handed to its connection). */
  void answered() {
    inFlight.decrementAndGet();
  }

  /**
   * Starts the shutdown: from now on a cache request is answered 503 {@code NotReady} (nothing
   * done, so a balancer tries another node) and {@code /health/ready} 503 {@code STOPPING}.
   */
  void stop() {
    stopping = true;
  }

  /**
   * Waits until every request taken up has been answered, at most until {@code deadline}
   * ({@code System.nanoTime()}); returns how many are still in flight then.
   */
  int awaitAnswered(long deadline) {
    while (inFlight.get() > 0 && System.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    return Math.max(0, inFlight.get());
  }

  /** Answers {@code request}; the stage never fails (errors become 5xx responses). */
  CompletionStage<ApiResponse> handle(Request request) {
    try {
      return route(request).exceptionally(e -> unexpected(ROUTE_API, e));
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(unexpected(ROUTE_OTHER, e));
    }
  }

  private CompletableFuture<ApiResponse> route(Request request) {
    String path = RequestTargets.path(request.uri());
    String method = request.method();
    if (path.equals(API_PREFIX) || path.startsWith(API_PREFIX + "/")) {
      return api(request, path);
    }
    return done(switch (path) {
      case "/health/live" -> getOnly(method, ROUTE_LIVE, () -> ApiResponse.json(ROUTE_LIVE, 200,
          "{\"status\":\"UP\",\"node\":" + Json.quote(config.nodeId()) + "}"));
      case "/health/ready" -> getOnly(method, ROUTE_READY, this::readiness);
      case "/metrics" -> getOnly(method, ROUTE_METRICS, () -> new ApiResponse(200, ApiResponse.PROMETHEUS,
          metrics.get(), java.util.Map.of(), ROUTE_METRICS));
      default -> ApiResponse.error(ROUTE_OTHER, 404, "NotFound", "no endpoint " + Json.quote(abbreviate(path))
          + "; use /api/cache/{key}, /health/live, /health/ready or /metrics");
    });
  }

  private ApiResponse getOnly(String method, String route, Supplier<ApiResponse> answer) {
    if (!method.equals("GET")) {
      return ApiResponse.error(route, 405, "MethodNotAllowed", "only GET is allowed here, was " + method)
          .withHeader("Allow", "GET");
    }
    return answer.get();
  }

  private ApiResponse readiness() {
    NodeCache current = cache.get();
    ReplicaState state = current == null ? ReplicaState.STARTING : current.state();
    boolean ready = state.ready() && !stopping;
    String status = stopping ? "STOPPING" : state.ready() ? "READY" : current == null ? "STARTING" : "REPLAYING";
    String body = "{\"status\":\"" + status + "\",\"node\":" + Json.quote(config.nodeId())
        + ",\"replayed\":" + state.replayedRecords()
        + ",\"target\":" + state.replayTarget()
        + ",\"progress\":" + state.progress()
        + ",\"lag_records\":" + state.lagRecords()
        + ",\"lag_ms\":" + state.lagMillis()
        + ",\"entries\":" + state.entries() + "}";
    ApiResponse response = ApiResponse.json(ROUTE_READY, ready ? 200 : 503, body);
    return ready ? response : response.withHeader("Retry-After", "1");
  }

  private CompletableFuture<ApiResponse> api(Request request, String path) {
    String rawKey = path.length() <= API_PREFIX.length() + 1 ? "" : path.substring(API_PREFIX.length() + 1);
    if (rawKey.isEmpty()) {
      return done(bad("the key is empty; use /api/cache/{key}"));
    }
    if (rawKey.indexOf('/') >= 0) {
      return done(ApiResponse.error(ROUTE_API, 404, "NotFound", "no endpoint " + Json.quote(abbreviate(path))
          + "; a key is one path segment: encode '/' as %2F"));
    }
    String key;
    try {
      key = Uris.decode(rawKey);
    } catch (Uris.BadUri e) {
      return done(bad("invalid key: " + e.getMessage()));
    }
    if (key.isEmpty()) {
      return done(bad("the key is empty; use /api/cache/{key}"));
    }
    if (Uris.hasControlCharacter(key)) {
      return done(bad("the key must not contain control characters"));
    }
    int length = key.codePointCount(0, key.length());
    if (length > config.maxKeyLength()) {
      return done(bad("the key is " + length + " characters long; at most " + config.maxKeyLength()
          + " are allowed"));
    }
    return switch (request.method()) {
      case "GET" -> whenReady(c -> get(c, key));
      case "DELETE" -> whenReady(c -> delete(c, key));
      case "POST" -> post(request, key);
      default -> done(ApiResponse.error(ROUTE_API, 405, "MethodNotAllowed",
          "only GET, POST and DELETE are allowed on /api/cache/{key}, was " + request.method())
          .withHeader("Allow", ALLOW_API));
    };
  }

  private CompletableFuture<ApiResponse> post(Request request, String key) {
    String problem = contentTypeProblem(request.contentType());
    if (problem != null) {
      return done(ApiResponse.error(ROUTE_API, 415, "UnsupportedMediaType", problem));
    }
    Duration ttl;
    try {
      ttl = ttl(Uris.parameter(Uris.query(request.uri()), "ttl"));
    } catch (Uris.BadUri e) {
      return done(bad(e.getMessage()));
    }
    String value;
    try {
      value = NodeJson.value(request.body());
    } catch (NodeJson.BadValue e) {
      return done(bad(e.getMessage()));
    }
    String stamp = NodeJson.timestamp(clock.instant());
    String stored = NodeJson.envelope(value, stamp);
    long entryBytes = NodeJson.utf8Length(key) + NodeJson.utf8Length(stored);
    if (entryBytes > NodeConfig.MAX_ENTRY_BYTES) {
      // Within --max-body, yet too large for one Kafka record: compact JSON can grow a value
      // (1e1 becomes 1E+1), and the key and timestamp come on top.
      return done(tooLargeForKafka("the entry would take " + entryBytes + " bytes (key, value in compact JSON "
          + "and its timestamp); the replication log takes at most " + NodeConfig.MAX_ENTRY_BYTES));
    }
    return whenReady(c -> {
      AsyncCache<String, String> async = c.async();
      CompletionStage<Void> write = ttl == null ? async.put(key, stored) : async.put(key, stored, ttl);
      return write.thenApply(v -> ApiResponse.json(ROUTE_API, 201,
              NodeJson.message("Cache entry stored", NodeJson.payload(key, stored)))
          .withHeader("Location", RequestTargets.path(request.uri())));
    });
  }

  private CompletionStage<ApiResponse> get(NodeCache c, String key) {
    return c.async().get(key).thenApply(stored -> stored == null
        ? notFound(key)
        : ApiResponse.json(ROUTE_API, 200, NodeJson.message("Cache entry found", NodeJson.payload(key, stored))));
  }

  private CompletionStage<ApiResponse> delete(NodeCache c, String key) {
    return c.async().remove(key).thenApply(removed -> removed
        ? ApiResponse.json(ROUTE_API, 200, NodeJson.message("Cache entry deleted", "{\"key\":" + Json.quote(key) + "}"))
        : notFound(key));
  }

  /**
   * Runs {@code operation} when the replica is ready, else answers 503; maps the cache's
   * failures to responses.
   */
  private CompletableFuture<ApiResponse> whenReady(Function<NodeCache, CompletionStage<ApiResponse>> operation) {
    if (stopping) {
      return done(notReady("this node is shutting down; retry on another node"));
    }
    NodeCache current = cache.get();
    if (current == null || !current.state().ready()) {
      ReplicaState state = current == null ? ReplicaState.STARTING : current.state();
      return done(notReady("this node is " + (current == null ? "starting" : "replaying the log") + " ("
          + Math.round(state.progress() * 100) + "% of " + state.replayTarget() + " records); retry shortly"));
    }
    CompletableFuture<ApiResponse> stage;
    try {
      stage = operation.apply(current).toCompletableFuture();
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    return stage.exceptionally(this::failure);
  }

  private ApiResponse failure(Throwable error) {
    Throwable e = error;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof CacheNotReadyException) {
      return notReady("this node is replaying the log; retry shortly");
    }
    if (e.getCause() instanceof RecordTooLargeException) {
      // A Kafka whose record limit is below its default one.
      return tooLargeForKafka("the entry is larger than the replication log (Kafka) accepts "
          + "(its max.request.size or message.max.bytes)");
    }
    if (e instanceof ReplicaFullException) {
      return ApiResponse.error(ROUTE_API, 507, "InsufficientStorage",
          "the cache holds its maximum of " + config.capacity() + " keys; delete some or write an existing key");
    }
    if (e instanceof BackendUnavailableException || e instanceof CacheTimeoutException) {
      warnUnavailable(e);
      return ApiResponse.error(ROUTE_API, 503, "ServiceUnavailable",
              "the replication log (Kafka) is unavailable: " + e.getMessage())
          .withHeader("Retry-After", "1");
    }
    if (e instanceof IllegalStateException) {
      // The cache was closed under us: the node is shutting down.
      return ApiResponse.error(ROUTE_API, 503, "ServiceUnavailable", "this node is shutting down")
          .withHeader("Retry-After", "1");
    }
    return unexpected(ROUTE_API, e);
  }

  private ApiResponse unexpected(String route, Throwable e) {
    log.warn("Request failed unexpectedly", e);
    return ApiResponse.error(route, 500, "InternalError", "internal error: " + e.getClass().getSimpleName());
  }

  private void warnUnavailable(Throwable e) {
    long now = System.nanoTime();
    long last = lastWarn.get();
    if (now - last >= WARN_INTERVAL_NANOS && lastWarn.compareAndSet(last, now)) {
      log.warn("Kafka unavailable, answering writes 503: {}", e.getMessage());
    }
  }

  /** Returns why a POST's {@code Content-Type} is not acceptable, or null when it is JSON in UTF-8. */
  static @Nullable String contentTypeProblem(@Nullable String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return "a value must be sent as Content-Type: application/json, was none";
    }
    String[] parts = contentType.split(";");
    String media = parts[0].trim().toLowerCase(Locale.ROOT);
    if (!media.equals("application/json")) {
      return "a value must be sent as Content-Type: application/json, was " + Json.quote(abbreviate(contentType));
    }
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].trim();
      int eq = parameter.indexOf('=');
      if (eq > 0 && parameter.substring(0, eq).trim().equalsIgnoreCase("charset")) {
        String charset = parameter.substring(eq + 1).trim().replace("\"", "");
        if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
          return "JSON must be UTF-8, was charset " + Json.quote(abbreviate(charset));
        }
      }
    }
    return null;
  }

  /**
   * Parses {@code ?ttl=}: null when absent, else a positive whole number of seconds.
   *
   * @throws Uris.BadUri saying what is wrong
   */
  static @Nullable Duration ttl(@Nullable String value) throws Uris.BadUri {
    if (value == null) {
      return null;
    }
    String rule = "ttl must be a positive whole number of seconds (1 to " + NodeConfig.MAX_TTL_SECONDS + ")";
    if (!value.matches("[0-9]{1,12}")) {
      throw new Uris.BadUri(rule + ", was " + Json.quote(abbreviate(value)));
    }
    long seconds = Long.parseLong(value);
    if (seconds < 1 || seconds > NodeConfig.MAX_TTL_SECONDS) {
      throw new Uris.BadUri(rule + ", was " + value);
    }
    return Duration.ofSeconds(seconds);
  }

  private static ApiResponse notFound(String key) {
    return ApiResponse.error(ROUTE_API, 404, "NotFound",
        "key " + Json.quote(abbreviate(key)) + " does not exist or has expired");
  }

  private static ApiResponse tooLargeForKafka(String message) {
    return ApiResponse.error(ROUTE_API, 413, "PayloadTooLarge", message);
  }

  private static ApiResponse notReady(String message) {
    return ApiResponse.error(ROUTE_API, 503, "NotReady", message).withHeader("Retry-After", "1");
  }

  private static ApiResponse bad(String message) {
    return ApiResponse.error(ROUTE_API, 400, "BadRequest", message);
  }

  private static CompletableFuture<ApiResponse> done(ApiResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  private static String abbreviate(String s) {
    return s.length() <= MAX_KEY_IN_MESSAGE ? s : s.substring(0, MAX_KEY_IN_MESSAGE) + "...";
  }
}
