package io.cachet.examples.proxy;

import io.cachet.redis.Coherence;
import io.cachet.redis.RedisOptions;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's validated settings. Built by {@link #builder()}, whose setters take the text form
 * of each option (from the command line or the environment) and reject an invalid value with an
 * {@link IllegalArgumentException} naming both the option and its environment variable.
 *
 * @param redisAddress the backing Redis as {@code redis://host:port}; empty: start an embedded one
 * @param globalExpiry how long a value stays in the near cache after it was read from Redis
 * @param capacity the near cache's capacity, in keys
 * @param host the address both servers bind
 * @param httpPort the HTTP port
 * @param respPort the RESP port; 0 when the RESP server is off
 * @param maxClients the most concurrent client connections, HTTP and RESP together
 * @param parallelism the most cache requests processed at once; 1 is sequential, 0 no limit
 * @param coherence how the near cache learns of changes in Redis
 * @param seed how many demo keys ({@code seeded_key1..N}) to write into the embedded Redis
 * @param maxRequestBytes the largest RESP request (command and arguments) a client may send
 * @param redisTimeout how long one Redis command may take
 * @param requestTimeout how long a client may take to send a request once it started it
 * @param idleTimeout how long a RESP client may stay silent before it is disconnected; zero: forever
 * @param httpIdleTimeout how long an HTTP client may stay silent before it is disconnected; zero: forever
 * @param threads the number of event-loop threads serving clients
 * @param maxPendingRequests unanswered keys per connection after which it stops reading (an MGET counts its keys)
 * @param maxQueuedReplyBytes reply bytes queued per connection after which it stops reading
 * @param replyStallTimeout how long a client with replies waiting may take none of their bytes
 *     before it is disconnected; zero: forever
 */
record ProxyConfig(
    Optional<String> redisAddress,
    Duration globalExpiry,
    long capacity,
    String host,
    int httpPort,
    int respPort,
    int maxClients,
    int parallelism,
    Coherence coherence,
    int seed,
    int maxRequestBytes,
    Duration redisTimeout,
    Duration requestTimeout,
    Duration idleTimeout,
    Duration httpIdleTimeout,
    int threads,
    int maxPendingRequests,
    int maxQueuedReplyBytes,
    Duration replyStallTimeout) {

  static final String DEFAULT_GLOBAL_EXPIRY = "60";
  static final String DEFAULT_CAPACITY = "10000";
  static final String DEFAULT_HOST = "127.0.0.1";
  static final String DEFAULT_HTTP_PORT = "8080";
  static final String DEFAULT_RESP_PORT = "6380";
  static final String DEFAULT_MAX_CLIENTS = "1000";
  static final String DEFAULT_PARALLELISM = "0";
  static final String DEFAULT_COHERENCE = "tracking";
  static final String DEFAULT_SEED = "0";
  static final String DEFAULT_MAX_REQUEST_BYTES = "524288";
  static final String DEFAULT_REDIS_TIMEOUT = "2";
  static final String DEFAULT_REQUEST_TIMEOUT = "10";
  static final String DEFAULT_IDLE_TIMEOUT = "0";
  static final String DEFAULT_HTTP_IDLE_TIMEOUT = "60";
  static final String DEFAULT_MAX_PENDING_REQUESTS = "1024";
  static final String DEFAULT_MAX_QUEUED_REPLY_BYTES = "65536";
  static final String DEFAULT_REPLY_STALL_TIMEOUT = "30";

  /** The longest time any duration option may be set to: about 31 years. */
  private static final BigDecimal MAX_SECONDS = BigDecimal.valueOf(1_000_000_000L);

  /** Returns a builder holding every default. */
  static Builder builder() {
    return new Builder();
  }

  /** Whether the proxy starts its own Redis because no address was given. */
  boolean embeddedRedis() {
    return redisAddress.isEmpty();
  }

  /** Builds a {@link ProxyConfig} from text values; each setter validates its value. */
  static final class Builder {
    private @Nullable String redisAddress;
    private Duration globalExpiry = seconds("--global-cache-expiry", "GLOBAL_CACHE_EXPIRY", DEFAULT_GLOBAL_EXPIRY, false);
    private long capacity = Long.parseLong(DEFAULT_CAPACITY);
    private String host = DEFAULT_HOST;
    private int httpPort = Integer.parseInt(DEFAULT_HTTP_PORT);
    private int respPort = Integer.parseInt(DEFAULT_RESP_PORT);
    private int maxClients = Integer.parseInt(DEFAULT_MAX_CLIENTS);
    private int parallelism = Integer.parseInt(DEFAULT_PARALLELISM);
    private Coherence coherence = Coherence.TRACKING;
    private int seed;
    private int maxRequestBytes = Integer.parseInt(DEFAULT_MAX_REQUEST_BYTES);
    private Duration redisTimeout = Duration.ofSeconds(2);
    private Duration requestTimeout = Duration.ofSeconds(10);
    private Duration idleTimeout = Duration.ZERO;
    private Duration httpIdleTimeout = Duration.ofSeconds(Long.parseLong(DEFAULT_HTTP_IDLE_TIMEOUT));
    private Duration replyStallTimeout = Duration.ofSeconds(Long.parseLong(DEFAULT_REPLY_STALL_TIMEOUT));
    private int threads = Runtime.getRuntime().availableProcessors();
    private int maxPendingRequests = Integer.parseInt(DEFAULT_MAX_PENDING_REQUESTS);
    private int maxQueuedReplyBytes = Integer.parseInt(DEFAULT_MAX_QUEUED_REPLY_BYTES);

    private Builder() {}

    /**
     * Any address {@code RedisOptions} accepts (standalone, TLS, Sentinel, Cluster, with
     * credentials); kept as written so credentials reach the client. Null or blank: embedded Redis.
     */
    Builder redisAddress(@Nullable String value) {
      if (value == null || value.isBlank()) {
        redisAddress = null;
        return this;
      }
      try {
        RedisOptions.builder().address(value.trim()).build(); // validates
        redisAddress = value.trim();
      } catch (IllegalArgumentException e) {
        throw invalid("--redis-address", "REDIS_ADDRESS",
            "must be host:port, redis[s]://[user:pw@]host:port[/db], redis[s]-sentinel://h1:p1,h2:p2#master"
                + " or redis[s]-cluster://h1:p1,h2:p2", value);
      }
      return this;
    }

    Builder globalExpiry(String value) {
      globalExpiry = seconds("--global-cache-expiry", "GLOBAL_CACHE_EXPIRY", value, false);
      return this;
    }

    Builder capacity(String value) {
      capacity = number("--cache-capacity", "CACHE_CAPACITY", value, 1, Integer.MAX_VALUE);
      return this;
    }

    Builder host(String value) {
      if (value == null || value.isBlank() || value.trim().chars().anyMatch(Character::isWhitespace)) {
        throw invalid("--proxy-host", "PROXY_HOST", "must be a host name or IP address", String.valueOf(value));
      }
      host = value.trim();
      return this;
    }

    Builder httpPort(String value) {
      httpPort = (int) number("--proxy-port", "PROXY_PORT", value, 1, 65_535);
      return this;
    }

    Builder respPort(String value) {
      respPort = (int) number("--resp-port", "RESP_PORT", value, 0, 65_535);
      return this;
    }

    Builder maxClients(String value) {
      maxClients = (int) number("--max-clients", "MAX_CLIENTS", value, 1, 1_000_000);
      return this;
    }

    Builder parallelism(String value) {
      parallelism = (int) number("--parallelism", "PARALLELISM", value, 0, 1_000_000);
      return this;
    }

    Builder coherence(String value) {
      coherence =
          switch (value == null ? "" : value.trim().toLowerCase(Locale.ROOT)) {
            case "tracking" -> Coherence.TRACKING;
            case "expiry" -> Coherence.EXPIRY;
            default -> throw invalid("--coherence", "COHERENCE", "must be tracking or expiry", value);
          };
      return this;
    }

    Builder seed(String value) {
      seed = (int) number("--seed", "SEED", value, 0, 10_000_000);
      return this;
    }

    Builder maxRequestBytes(String value) {
      maxRequestBytes = (int) number("--max-request-bytes", "MAX_REQUEST_BYTES", value, 64, 512 * 1024 * 1024);
      return this;
    }

    Builder redisTimeout(String value) {
      redisTimeout = seconds("--redis-timeout", "REDIS_TIMEOUT", value, false);
      if (redisTimeout.compareTo(RedisOptions.MAX_TIMEOUT) > 0) {
        throw invalid("--redis-timeout", "REDIS_TIMEOUT",
            "must be a number of seconds > 0 and at most " + RedisOptions.MAX_TIMEOUT.toSeconds(), value);
      }
      return this;
    }

    Builder requestTimeout(String value) {
      requestTimeout = seconds("--request-timeout", "REQUEST_TIMEOUT", value, false);
      return this;
    }

    Builder idleTimeout(String value) {
      idleTimeout = seconds("--idle-timeout", "IDLE_TIMEOUT", value, true);
      return this;
    }

    Builder httpIdleTimeout(String value) {
      httpIdleTimeout = seconds("--http-idle-timeout", "HTTP_IDLE_TIMEOUT", value, true);
      return this;
    }

    Builder threads(String value) {
      threads = (int) number("--threads", "THREADS", value, 1, 1024);
      return this;
    }

    Builder maxPendingRequests(String value) {
      maxPendingRequests = (int) number("--max-pending-requests", "MAX_PENDING_REQUESTS", value, 1, 1_000_000);
      return this;
    }

    Builder replyStallTimeout(String value) {
      replyStallTimeout = seconds("--reply-stall-timeout", "REPLY_STALL_TIMEOUT", value, true);
      return this;
    }

    Builder maxQueuedReplyBytes(String value) {
      maxQueuedReplyBytes = (int) number("--max-queued-reply-bytes", "MAX_QUEUED_REPLY_BYTES", value, 1024,
          1024 * 1024 * 1024);
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @throws IllegalArgumentException when options contradict each other
     */
    ProxyConfig build() {
      if (seed > 0 && redisAddress != null) {
        throw new IllegalArgumentException(
            "--seed (SEED) only applies to the embedded Redis; it would write seeded_key1.."
                + seed + " into " + redisAddress + ". Unset REDIS_ADDRESS or drop --seed");
      }
      if (respPort != 0 && respPort == httpPort) {
        throw new IllegalArgumentException(
            "--resp-port (RESP_PORT) must differ from --proxy-port (PROXY_PORT), both were " + httpPort);
      }
      return new ProxyConfig(
          Optional.ofNullable(redisAddress), globalExpiry, capacity, host, httpPort, respPort, maxClients,
          parallelism, coherence, seed, maxRequestBytes, redisTimeout, requestTimeout, idleTimeout, httpIdleTimeout,
          threads, maxPendingRequests, maxQueuedReplyBytes, replyStallTimeout);
    }

    private static long number(String option, String env, @Nullable String value, long min, long max) {
      String text = value == null ? "" : value.trim().replace("_", "");
      long parsed;
      try {
        parsed = Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw invalid(option, env, "must be a whole number from " + min + " to " + max, value);
      }
      if (parsed < min || parsed > max) {
        throw invalid(option, env, "must be a whole number from " + min + " to " + max, value);
      }
      return parsed;
    }

    private static Duration seconds(String option, String env, @Nullable String value, boolean zeroAllowed) {
      String rule = zeroAllowed ? "must be a number of seconds >= 0 (0 = never)" : "must be a number of seconds > 0";
      BigDecimal parsed;
      try {
        parsed = new BigDecimal(value == null ? "" : value.trim());
      } catch (NumberFormatException e) {
        throw invalid(option, env, rule + ", e.g. 30 or 0.5", value);
      }
      int sign = parsed.signum();
      if (sign < 0 || (sign == 0 && !zeroAllowed) || parsed.compareTo(MAX_SECONDS) > 0) {
        throw invalid(option, env, rule, value);
      }
      long millis = parsed.movePointRight(3).setScale(0, java.math.RoundingMode.CEILING).longValueExact();
      return Duration.ofMillis(millis);
    }

    private static IllegalArgumentException invalid(String option, String env, String rule, @Nullable String value) {
      return new IllegalArgumentException(option + " (" + env + ") " + rule + ", was '" + value + "'");
    }
  }
}
