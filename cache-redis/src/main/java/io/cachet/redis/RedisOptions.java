package io.cachet.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.BackendOptions;
import io.cachet.internal.Durations;
import io.cachet.internal.OptionValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
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
  /** The longest {@code commandTimeout} or {@code connectTimeout}: one day. */
  public static final Duration MAX_TIMEOUT = Duration.ofDays(1);
  /** The longest a near-cache entry is served without being re-read, whatever invalidations say. */
  public static final Duration DEFAULT_NEAR_CACHE_MAX_AGE = Duration.ofMinutes(10);

  /** How long a key Redis did not have is remembered as absent; {@link Duration#ZERO} turns that off. */
  public static final Duration DEFAULT_NEGATIVE_CACHE_MAX_AGE = Duration.ofMinutes(1);

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
          "negativeCacheMaxAge",
          "serveStaleOnError",
          "trustStore",
          "trustStorePassword",
          "keyStore",
          "keyStorePassword");

  private final RedisAddress address;
  private final String keyPrefix;
  private final int database;
  private final @Nullable String username;
  private final @Nullable String password;
  private final Duration commandTimeout;
  private final Duration connectTimeout;
  private final Coherence coherence;
  private final Duration nearCacheMaxAge;
  private final Duration negativeCacheMaxAge;
  private final boolean serveStaleOnError;
  private final @Nullable Path trustStore;
  private final @Nullable String trustStorePassword;
  private final @Nullable Path keyStore;
  private final @Nullable String keyStorePassword;
  /** Which of username, password and database {@link Builder#build} took from the address. */
  private final Set<String> fromAddress;

  private RedisOptions(Builder b) {
    this.fromAddress = Set.copyOf(b.fromAddress);
    this.address = b.address;
    this.keyPrefix = b.keyPrefix;
    this.database = b.database;
    this.username = b.username;
    this.password = b.password;
    this.trustStore = b.trustStore;
    this.trustStorePassword = b.trustStorePassword;
    this.keyStore = b.keyStore;
    this.keyStorePassword = b.keyStorePassword;
    this.commandTimeout = b.commandTimeout;
    this.connectTimeout = b.connectTimeout;
    this.coherence = b.coherence;
    this.nearCacheMaxAge = b.nearCacheMaxAge;
    this.negativeCacheMaxAge = b.negativeCacheMaxAge;
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

  /**
   * Returns a builder holding these options; each may be set once more. Credentials and a database
   * that came with the address are held as if set on their own, so that setting one of them
   * replaces it, and a new {@link Builder#address} replaces them with its own (or none).
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Parses options from their text forms, as in a properties file. Values are trimmed, except
   * {@code keyPrefix}, {@code username} and {@code password}, which are taken as written.
   *
   * @throws IllegalArgumentException naming the option if one is unknown or invalid
   */
  public static RedisOptions parse(Map<String, String> options) {
    Builder builder = builder();
    for (Map.Entry<String, String> e : options.entrySet()) {
      // Trimmed, but for the values whose spaces mean something: a key prefix and credentials.
      String raw = e.getValue();
      String value = raw.trim();
      switch (e.getKey()) {
        case "address" -> builder.address(value);
        case "keyPrefix" -> builder.keyPrefix(raw);
        case "database" -> builder.database(OptionValues.parseInt("database", value));
        case "username" -> builder.username(raw);
        case "password" -> builder.password(raw);
        case "commandTimeout" -> builder.commandTimeout(Durations.parse("commandTimeout", value));
        case "connectTimeout" -> builder.connectTimeout(Durations.parse("connectTimeout", value));
        case "coherence" -> builder.coherence(Coherence.parse(value));
        case "nearCacheMaxAge" -> builder.nearCacheMaxAge(Durations.parse("nearCacheMaxAge", value));
        case "negativeCacheMaxAge" -> builder.negativeCacheMaxAge(Durations.parse("negativeCacheMaxAge", value));
        case "serveStaleOnError" -> builder.serveStaleOnError(OptionValues.parseBoolean("serveStaleOnError", value));
        case "trustStore" -> builder.trustStore(Path.of(value));
        case "trustStorePassword" -> builder.trustStorePassword(value);
        case "keyStore" -> builder.keyStore(Path.of(value));
        case "keyStorePassword" -> builder.keyStorePassword(value);
        default ->
            throw new IllegalArgumentException(
                "unknown redis option '" + e.getKey() + "'; known options: " + new TreeSet<>(OPTION_NAMES));
      }
    }
    return builder.build();
  }

  /**
   * Returns the address in its normalized form, without credentials: {@code redis://host:port},
   * {@code redis-sentinel://h1:p1,h2:p2#master}, {@code redis-cluster://h1:p1,h2:p2}, or their
   * TLS forms ({@code rediss...}).
   */
  public String address() {
    return address.toString();
  }

  /** The parsed address. */
  RedisAddress parsedAddress() {
    return address;
  }

  /** Returns the trust store that verifies the servers' certificates, if not the JVM's default. */
  public Optional<Path> trustStore() {
    return Optional.ofNullable(trustStore);
  }

  /** Returns the trust store's password, if any. */
  public Optional<String> trustStorePassword() {
    return Optional.ofNullable(trustStorePassword);
  }

  /** Returns the key store holding this client's certificate and key (mutual TLS), if any. */
  public Optional<Path> keyStore() {
    return Optional.ofNullable(keyStore);
  }

  /** Returns the key store's password, if any. */
  public Optional<String> keyStorePassword() {
    return Optional.ofNullable(keyStorePassword);
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
   * Returns how long the near cache remembers that Redis has no such key (invalidated like any
   * entry when a client creates it); zero when absent keys are not cached.
   */
  public Duration negativeCacheMaxAge() {
    return negativeCacheMaxAge;
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
        + ", negativeCacheMaxAge="
        + negativeCacheMaxAge
        + ", serveStaleOnError="
        + serveStaleOnError
        + (username == null ? "" : ", username=" + username)
        + (password == null ? "" : ", password=****")
        + (trustStore == null ? "" : ", trustStore=" + trustStore)
        + (keyStore == null ? "" : ", keyStore=" + keyStore)
        + "}";
  }

  /** Builds {@link RedisOptions}; each setter validates its value and may be called once. */
  public static final class Builder {

    private final Set<String> set = new HashSet<>();
    /** Of username, password and database: those {@link #build} takes from the address. */
    private final Set<String> fromAddress = new HashSet<>();
    /** Of those, the ones the options this builder copies took from their address ({@link #toBuilder}). */
    private final Set<String> fromOldAddress = new HashSet<>();
    private RedisAddress address = RedisAddress.parse(DEFAULT_ADDRESS);
    private String keyPrefix = "";
    private int database;
    private @Nullable String username;
    private @Nullable String password;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Coherence coherence = Coherence.TRACKING;
    private Duration nearCacheMaxAge = DEFAULT_NEAR_CACHE_MAX_AGE;
    private Duration negativeCacheMaxAge = DEFAULT_NEGATIVE_CACHE_MAX_AGE;
    private boolean serveStaleOnError;
    private @Nullable Path trustStore;
    private @Nullable String trustStorePassword;
    private @Nullable Path keyStore;
    private @Nullable String keyStorePassword;

    private Builder() {}

    private Builder(RedisOptions o) {
      address = o.address.withoutCredentials();
      fromOldAddress.addAll(o.fromAddress);
      keyPrefix = o.keyPrefix;
      database = o.database;
      username = o.username;
      password = o.password;
      commandTimeout = o.commandTimeout;
      connectTimeout = o.connectTimeout;
      coherence = o.coherence;
      nearCacheMaxAge = o.nearCacheMaxAge;
      negativeCacheMaxAge = o.negativeCacheMaxAge;
      serveStaleOnError = o.serveStaleOnError;
      trustStore = o.trustStore;
      trustStorePassword = o.trustStorePassword;
      keyStore = o.keyStore;
      keyStorePassword = o.keyStorePassword;
    }

    /**
     * Sets where Redis is, and so its topology, in one string usable from a properties file or an
     * environment variable:
     *
     * <ul>
     *   <li>a single server: {@code host:port}, {@code redis://[user:password@]host:port[/db]}, or
     *       {@code rediss://...} for TLS;
     *   <li>Sentinel: {@code redis-sentinel://[user:password@]host:port,host:port[/db]#master},
     *       the Sentinels' addresses and the name they monitor the primary under
     *       ({@code rediss-sentinel://} for TLS);
     *   <li>Cluster: {@code redis-cluster://[user:password@]host:port,host:port}, any reachable
     *       nodes as seeds ({@code rediss-cluster://} for TLS).
     * </ul>
     *
     * Credentials in the address are percent-decoded and used like {@link #username} and
     * {@link #password}; they never appear in {@link #address()} or in messages. The user info
     * runs to the last {@code @} (for Sentinel, the last before the last {@code #}), so a
     * password may hold {@code #} or {@code /} unencoded, and a master name may hold {@code @}.
     *
     * @throws IllegalArgumentException naming the address (password masked) when it cannot be parsed
     */
    public Builder address(String address) {
      requireNonNull(address, "address");
      RedisAddress parsed = RedisAddress.parse(address);
      once("address", this.address);
      this.address = parsed;
      // What the replaced address brought goes with it, unless it was set again on its own.
      if (fromOldAddress.contains("username") && !set.contains("username")) {
        username = null;
      }
      if (fromOldAddress.contains("password") && !set.contains("password")) {
        password = null;
      }
      if (fromOldAddress.contains("database") && !set.contains("database")) {
        database = 0;
      }
      fromOldAddress.clear();
      return this;
    }

    /**
     * Sets the trust store (PKCS#12, or JKS for a {@code .jks} file) that verifies the servers'
     * certificates, instead of the JVM's default; needs a TLS address.
     *
     * @throws IllegalArgumentException when the file is not readable
     */
    public Builder trustStore(Path trustStore) {
      this.trustStore = readable("trustStore", trustStore);
      return this;
    }

    /** Sets the trust store's password. */
    public Builder trustStorePassword(String password) {
      requireNonNull(password, "trustStorePassword");
      once("trustStorePassword", null);
      this.trustStorePassword = password;
      return this;
    }

    /**
     * Sets the key store (PKCS#12, or JKS for a {@code .jks} file) holding this client's certificate
     * and private key, for servers that require mutual TLS ({@code tls-auth-clients yes}); needs a
     * TLS address.
     *
     * @throws IllegalArgumentException when the file is not readable
     */
    public Builder keyStore(Path keyStore) {
      this.keyStore = readable("keyStore", keyStore);
      return this;
    }

    /** Sets the key store's password (also the private key's). */
    public Builder keyStorePassword(String password) {
      requireNonNull(password, "keyStorePassword");
      once("keyStorePassword", null);
      this.keyStorePassword = password;
      return this;
    }

    private Path readable(String option, Path file) {
      requireNonNull(file, option);
      if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
        throw new IllegalArgumentException(option + " must be a readable file, was " + file);
      }
      once(option, null);
      return file;
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
      if (fromOldAddress.remove("database")) {
        address = address.withoutDatabase(); // the copied address's database, replaced
      }
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

    /**
     * Sets how long one Redis command may take (commands are not retried); positive, at most
     * {@link #MAX_TIMEOUT}.
     */
    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = timeout("commandTimeout", timeout);
      return this;
    }

    /** Sets how long connecting may take; positive, at most {@link #MAX_TIMEOUT}. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout("connectTimeout", timeout);
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
     * Sets how long the near cache remembers that Redis has no such key, so repeated reads of an
     * absent key cost no round trip; the record is invalidated like any near entry when a client
     * creates the key. {@link Duration#ZERO} turns negative caching off; must be {@code >= 0}.
     */
    public Builder negativeCacheMaxAge(Duration maxAge) {
      requireNonNull(maxAge, "negativeCacheMaxAge");
      if (maxAge.isNegative()) {
        throw new IllegalArgumentException("negativeCacheMaxAge must be >= 0, was " + maxAge);
      }
      once("negativeCacheMaxAge", null);
      this.negativeCacheMaxAge = maxAge;
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

    /**
     * Returns the immutable options.
     *
     * @throws IllegalStateException when options contradict each other: credentials or a database
     *     both in the address and set on their own, a user name without a password, or TLS stores
     *     for an address without TLS
     */
    public RedisOptions build() {
      fromAddress.clear();
      for (String option : fromOldAddress) {
        if (!set.contains(option)) {
          fromAddress.add(option); // still the old address's, which this builder kept
        }
      }
      if (address.username() != null) {
        if (set.contains("username")) {
          throw new IllegalStateException("username is set both in address and by username(...)");
        }
        username = address.username();
        fromAddress.add("username");
      }
      if (address.password() != null) {
        if (set.contains("password")) {
          throw new IllegalStateException("password is set both in address and by password(...)");
        }
        password = address.password();
        fromAddress.add("password");
      }
      if (address.database() != null) {
        if (set.contains("database") && database != address.database()) {
          throw new IllegalStateException(
              "database is " + address.database() + " in address " + address + " but " + database + " by database(...)");
        }
        database = address.database();
        fromAddress.add("database");
      }
      if (!address.tls() && (trustStore != null || keyStore != null)) {
        throw new IllegalStateException(
            (trustStore != null ? "trustStore" : "keyStore") + " is set but address " + address
                + " does not use TLS (rediss://, rediss-sentinel:// or rediss-cluster://)");
      }
      if (address.topology() == RedisAddress.Topology.CLUSTER && database != 0) {
        throw new IllegalStateException("database must be 0 for a Redis Cluster, was " + database);
      }
      if (username != null && password == null) {
        // Without a password no AUTH is sent, and the user name would be ignored: the connections
        // would run as Redis's default user instead.
        throw new IllegalStateException("username " + username + " is set without a password; Redis authenticates"
            + " a user with both (AUTH user password; for a user without one, nopass, any password will do)");
      }
      return new RedisOptions(this);
    }

    /** A positive timeout that Redis clients and sockets can take (they count milliseconds in an {@code int}). */
    private Duration timeout(String option, Duration value) {
      requireNonNull(value, option);
      if (value.compareTo(MAX_TIMEOUT) > 0) {
        throw new IllegalArgumentException(option + " must be at most " + MAX_TIMEOUT + ", was " + value);
      }
      return positive(option, value);
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
