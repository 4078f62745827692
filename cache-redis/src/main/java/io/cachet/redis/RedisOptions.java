package io.cachet.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.BackendOptions;
import io.cachet.internal.Durations;
import io.cachet.internal.OptionValues;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Options of the {@code redis} backend: where Redis is, how long calls may take, and how the near
 * cache stays coherent.
 *
 * <pre>{@code
 * CacheConfig config = CacheConfig.builder("sessions")
 *     .backend("redis")
 *     .maximumSize(50_000)                       // near-cache capacity
 *     .backendOptions(RedisOptions.builder()
 *         .address("redis://10.0.0.5:6379")
 *         .keyPrefix("sessions:")
 *         .nearCacheMaxAge(Duration.ofMinutes(10))
 *         .build())
 *     .build();
 * }</pre>
 *
 * <p>In a properties file the same options appear as {@code cache.<name>.redis.<option>}, for
 * example {@code cache.sessions.redis.address=10.0.0.5:6379}. Immutable.
 */
public final class RedisOptions implements BackendOptions {

  /** The server used when none is given. */
  public static final String DEFAULT_ADDRESS = "redis://127.0.0.1:6379";
  /** How long one Redis command may take; a call fails after this plus 250 ms. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);
  /** How long connecting may take. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /** The longest a near-cache entry is served without being re-read, whatever invalidations say. */
  public static final Duration DEFAULT_NEAR_CACHE_MAX_AGE = Duration.ofMinutes(10);

  /** The option names understood in properties files. */
  public static final Set<String> OPTION_NAMES =
      Set.of(
          "address",
          "keyPrefix",
          "database",
          "username",
          "password",
          "commandTimeout",
          "connectTimeout",
          "coherence",
          "nearCacheMaxAge",
          "serveStaleOnError");

  private final String address;
  private final String keyPrefix;
  private final int database;
  private final @Nullable String username;
  private final @Nullable String password;
  private final Duration commandTimeout;
  private final Duration connectTimeout;
  private final Coherence coherence;
  private final Duration nearCacheMaxAge;
  private final boolean serveStaleOnError;

  private RedisOptions(Builder b) {
    this.address = b.address;
    this.keyPrefix = b.keyPrefix;
    this.database = b.database;
    this.username = b.username;
    this.password = b.password;
    this.commandTimeout = b.commandTimeout;
    this.connectTimeout = b.connectTimeout;
    this.coherence = b.coherence;
    this.nearCacheMaxAge = b.nearCacheMaxAge;
    this.serveStaleOnError = b.serveStaleOnError;
  }

  /** Returns a builder with every option at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns options with every value at its default. */
  public static RedisOptions defaults() {
    return builder().build();
  }

  /** Returns a builder holding these options; each may be set once more. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Parses options from their text forms, as in a properties file.
   *
   * @throws IllegalArgumentException naming the option if one is unknown or invalid
   */
  public static RedisOptions parse(Map<String, String> options) {
    Builder builder = builder();
    for (Map.Entry<String, String> e : options.entrySet()) {
      String value = e.getValue().trim();
      switch (e.getKey()) {
        case "address" -> builder.address(value);
        case "keyPrefix" -> builder.keyPrefix(value);
        case "database" -> builder.database(OptionValues.parseInt("database", value));
        case "username" -> builder.username(value);
        case "password" -> builder.password(value);
        case "commandTimeout" -> builder.commandTimeout(Durations.parse("commandTimeout", value));
        case "connectTimeout" -> builder.connectTimeout(Durations.parse("connectTimeout", value));
        case "coherence" -> builder.coherence(Coherence.parse(value));
        case "nearCacheMaxAge" -> builder.nearCacheMaxAge(Durations.parse("nearCacheMaxAge", value));
        case "serveStaleOnError" -> builder.serveStaleOnError(OptionValues.parseBoolean("serveStaleOnError", value));
        default ->
            throw new IllegalArgumentException(
                "unknown redis option '" + e.getKey() + "'; known options: " + new TreeSet<>(OPTION_NAMES));
      }
    }
    return builder.build();
  }

  /** Returns the server's address as a {@code redis://host:port} URI. */
  public String address() {
    return address;
  }

  /** Returns the prefix put in front of every key in Redis; empty by default. */
  public String keyPrefix() {
    return keyPrefix;
  }

  /** Returns the Redis database number. */
  public int database() {
    return database;
  }

  /** Returns the ACL user name, if any. */
  public Optional<String> username() {
    return Optional.ofNullable(username);
  }

  /** Returns the password, if any. */
  public Optional<String> password() {
    return Optional.ofNullable(password);
  }

  /** Returns how long one Redis command may take. */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  /** Returns how long connecting may take. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** Returns how the near cache learns that Redis changed. */
  public Coherence coherence() {
    return coherence;
  }

  /** Returns the longest a near-cache entry is served without re-reading Redis. */
  public Duration nearCacheMaxAge() {
    return nearCacheMaxAge;
  }

  /**
   * Returns whether a read falls back to the near copy, even an unverified one, when Redis is
   * unavailable or does not answer in time (not when it answers with an error).
   */
  public boolean serveStaleOnError() {
    return serveStaleOnError;
  }

  @Override
  public String toString() {
    return "RedisOptions{address="
        + address
        + ", keyPrefix='"
        + keyPrefix
        + "', database="
        + database
        + ", commandTimeout="
        + commandTimeout
        + ", connectTimeout="
        + connectTimeout
        + ", coherence="
        + coherence
        + ", nearCacheMaxAge="
        + nearCacheMaxAge
        + ", serveStaleOnError="
        + serveStaleOnError
        + "}";
  }

  /**
   * Normalizes {@code host:port}, {@code redis://host:port} or {@code rediss://host:port} to a URI
   * string.
   *
   * @throws IllegalArgumentException naming the address if it cannot be parsed
   */
  static String normalizeAddress(String address) {
    String text = address.trim();
    String withScheme = text.contains("://") ? text : "redis://" + text;
    try {
      URI uri = new URI(withScheme);
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("redis") && !scheme.equals("rediss")) {
        throw new IllegalArgumentException(
            "address must use redis:// or rediss://, was '" + address + "'");
      }
      if (uri.getHost() == null || uri.getPort() <= 0 || uri.getPort() > 65_535) {
        throw new IllegalArgumentException(
            "address must be host:port or redis://host:port, was '" + address + "'");
      }
      return scheme + "://" + uri.getHost() + ":" + uri.getPort();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "address must be host:port or redis://host:port, was '" + address + "'", e);
    }
  }



  /** Builds {@link RedisOptions}; each setter validates its value and may be called once. */
  public static final class Builder {

    private final Set<String> set = new HashSet<>();
    private String address = DEFAULT_ADDRESS;
    private String keyPrefix = "";
    private int database;
    private @Nullable String username;
    private @Nullable String password;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Coherence coherence = Coherence.TRACKING;
    private Duration nearCacheMaxAge = DEFAULT_NEAR_CACHE_MAX_AGE;
    private boolean serveStaleOnError;

    private Builder() {}

    private Builder(RedisOptions o) {
      address = o.address;
      keyPrefix = o.keyPrefix;
      database = o.database;
      username = o.username;
      password = o.password;
      commandTimeout = o.commandTimeout;
      connectTimeout = o.connectTimeout;
      coherence = o.coherence;
      nearCacheMaxAge = o.nearCacheMaxAge;
      serveStaleOnError = o.serveStaleOnError;
    }

    /** Sets the server: {@code host:port}, {@code redis://host:port} or {@code rediss://host:port}. */
    public Builder address(String address) {
      requireNonNull(address, "address");
      String normalized = normalizeAddress(address);
      once("address", this.address);
      this.address = normalized;
      return this;
    }

    /** Sets the prefix of every key in Redis, such as {@code "orders:"}. */
    public Builder keyPrefix(String keyPrefix) {
      requireNonNull(keyPrefix, "keyPrefix");
      once("keyPrefix", this.keyPrefix);
      this.keyPrefix = keyPrefix;
      return this;
    }

    /** Sets the database number; must be {@code >= 0}. */
    public Builder database(int database) {
      if (database < 0) {
        throw new IllegalArgumentException("database must be >= 0, was " + database);
      }
      once("database", this.database);
      this.database = database;
      return this;
    }

    /** Sets the ACL user name. */
    public Builder username(String username) {
      requireNonNull(username, "username");
      once("username", this.username);
      this.username = username;
      return this;
    }

    /** Sets the password. */
    public Builder password(String password) {
      requireNonNull(password, "password");
      once("password", "****");
      this.password = password;
      return this;
    }

    /** Sets how long one Redis command may take (commands are not retried); must be positive. */
    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = positive("commandTimeout", timeout);
      return this;
    }

    /** Sets how long connecting may take; must be positive. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive("connectTimeout", timeout);
      return this;
    }

    /** Sets how the near cache stays coherent; {@link Coherence#TRACKING} by default. */
    public Builder coherence(Coherence coherence) {
      requireNonNull(coherence, "coherence");
      once("coherence", this.coherence);
      this.coherence = coherence;
      return this;
    }

    /** Sets the longest a near-cache entry is served without re-reading Redis; must be positive. */
    public Builder nearCacheMaxAge(Duration maxAge) {
      this.nearCacheMaxAge = positive("nearCacheMaxAge", maxAge);
      return this;
    }

    /**
     * Lets a read return the near copy, even an unverified one, when Redis is unavailable or does
     * not answer in time; a copy removed by an invalidation or by this process's write while the
     * read was in flight, or past the key's TTL in Redis, is not served. Off by default.
     */
    public Builder serveStaleOnError(boolean serveStale) {
      once("serveStaleOnError", this.serveStaleOnError);
      this.serveStaleOnError = serveStale;
      return this;
    }

    /** Returns the immutable options. */
    public RedisOptions build() {
      return new RedisOptions(this);
    }

    private Duration positive(String option, Duration value) {
      requireNonNull(value, option);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(option + " must be > 0, was " + value);
      }
      once(option, null);
      return value;
    }

    private void once(String option, @Nullable Object current) {
      if (!set.add(option)) {
        throw new IllegalStateException(option + " was already set" + (current == null ? "" : " to " + current));
      }
    }
  }
}
