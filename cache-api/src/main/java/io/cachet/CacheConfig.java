package io.cachet;

import static java.util.Objects.requireNonNull;

import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import io.cachet.internal.Durations;
import io.cachet.internal.OptionValues;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import org.jspecify.annotations.Nullable;

/**
 * The immutable description of one cache: its name, backend, bound, expiry and collaborators.
 *
 * <pre>{@code
 * CacheConfig config = CacheConfig.builder("orders")
 *     .maximumSize(10_000)
 *     .evictionPolicy(EvictionPolicy.LRU)
 *     .expireAfterWrite(Duration.ofMinutes(5))
 *     .build();
 * }</pre>
 *
 * <p>The builder validates each option when it is set and accepts it only once, so a typo that
 * sets the same option twice fails fast. {@link #toBuilder()} starts a builder from an existing
 * configuration in which every option may be set once more. The same option names are used by
 * {@link CacheManager#fromProperties(java.util.Properties)}.
 */
public final class CacheConfig {

  /** The backend used when none is chosen: an in-process cache from {@code cache-local}. */
  public static final String DEFAULT_BACKEND = "local";
  /** The bound used when none is chosen, in entries. */
  public static final long DEFAULT_MAXIMUM_SIZE = 10_000;
  /** The eviction policy used when none is chosen. */
  public static final EvictionPolicy DEFAULT_EVICTION_POLICY = EvictionPolicy.TINY_LFU;

  /** The option names understood by {@link Builder#option(String, String)}. */
  public static final Set<String> OPTION_NAMES =
      Set.of(
          "backend",
          "maximumSize",
          "evictionPolicy",
          "expireAfterWrite",
          "perEntryTtl",
          "recordStats",
          "keyCodec",
          "valueCodec");

  private final String name;
  private final String backend;
  private final long maximumSize;
  private final EvictionPolicy evictionPolicy;
  private final @Nullable Duration expireAfterWrite;
  private final boolean perEntryTtl;
  private final boolean recordStats;
  private final Codec<?> keyCodec;
  private final Codec<?> valueCodec;
  private final Ticker ticker;
  private final InstantSource clock;
  private final Executor executor;
  private final @Nullable RemovalListener<?, ?> removalListener;
  private final Map<Class<?>, BackendOptions> backendOptions;

  private CacheConfig(Builder b) {
    this.name = b.name;
    this.backend = b.backend;
    this.maximumSize = b.maximumSize;
    this.evictionPolicy = b.evictionPolicy;
    this.expireAfterWrite = b.expireAfterWrite;
    this.perEntryTtl = b.perEntryTtl;
    this.recordStats = b.recordStats;
    this.keyCodec = b.keyCodec;
    this.valueCodec = b.valueCodec;
    this.ticker = b.ticker;
    this.clock = b.clock;
    this.executor = b.executor;
    this.removalListener = b.removalListener;
    this.backendOptions = Map.copyOf(b.backendOptions);
  }

  /** Starts a configuration for the cache called {@code name}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Returns a builder holding this configuration's values; each option may be set once more. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Returns the cache's name, unique within its manager. */
  public String name() {
    return name;
  }

  /** Returns the backend's name, such as {@code local}, {@code redis} or {@code replicated-kafka}. */
  public String backend() {
    return backend;
  }

  /** Returns the bound in entries (for remote backends, the bound of the local part). */
  public long maximumSize() {
    return maximumSize;
  }

  /** Returns how a full cache chooses what to evict. */
  public EvictionPolicy evictionPolicy() {
    return evictionPolicy;
  }

  /** Returns how long an entry lives after it is written, if entries expire by default. */
  public Optional<Duration> expireAfterWrite() {
    return Optional.ofNullable(expireAfterWrite);
  }

  /** Returns whether entries may carry their own time to live. */
  public boolean perEntryTtl() {
    return perEntryTtl;
  }

  /** Returns whether the cache keeps {@link CacheStats}. */
  public boolean recordStats() {
    return recordStats;
  }

  /** Returns the codec remote backends use for keys. */
  public Codec<?> keyCodec() {
    return keyCodec;
  }

  /** Returns the codec remote backends use for values. */
  public Codec<?> valueCodec() {
    return valueCodec;
  }

  /** Returns the time source for expiry. */
  public Ticker ticker() {
    return ticker;
  }

  /** Returns the wall clock, for backends that store absolute deadlines or timestamps. */
  public InstantSource clock() {
    return clock;
  }

  /** Returns the executor for listeners and asynchronous maintenance. */
  public Executor executor() {
    return executor;
  }

  /** Returns the removal listener, if any. */
  public Optional<RemovalListener<?, ?>> removalListener() {
    return Optional.ofNullable(removalListener);
  }

  /** Returns the backend options of {@code type}, if the configuration carries them. */
  public <T extends BackendOptions> Optional<T> backendOptions(Class<T> type) {
    return Optional.ofNullable(backendOptions.get(type)).map(type::cast);
  }

  @Override
  public String toString() {
    return "CacheConfig{name="
        + name
        + ", backend="
        + backend
        + ", maximumSize="
        + maximumSize
        + ", evictionPolicy="
        + evictionPolicy
        + ", expireAfterWrite="
        + expireAfterWrite
        + ", perEntryTtl="
        + perEntryTtl
        + ", recordStats="
        + recordStats
        + ", backendOptions="
        + backendOptions.values()
        + "}";
  }

  /**
   * Builds a {@link CacheConfig}. Each setter validates its argument and may be called once; not
   * thread-safe.
   */
  public static final class Builder {

    private final String name;
    private final Set<String> explicitlySet = new java.util.HashSet<>();
    private String backend = DEFAULT_BACKEND;
    private long maximumSize = DEFAULT_MAXIMUM_SIZE;
    private EvictionPolicy evictionPolicy = DEFAULT_EVICTION_POLICY;
    private @Nullable Duration expireAfterWrite;
    private boolean perEntryTtl = true;
    private boolean recordStats = true;
    private Codec<?> keyCodec = Codecs.utf8();
    private Codec<?> valueCodec = Codecs.utf8();
    private Ticker ticker = Ticker.system();
    private InstantSource clock = InstantSource.system();
    private Executor executor = ForkJoinPool.commonPool();
    private @Nullable RemovalListener<?, ?> removalListener;
    private final Map<Class<?>, BackendOptions> backendOptions = new LinkedHashMap<>();

    private Builder(String name) {
      requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
      }
      this.name = name;
    }

    private Builder(CacheConfig c) {
      this.name = c.name;
      this.backend = c.backend;
      this.maximumSize = c.maximumSize;
      this.evictionPolicy = c.evictionPolicy;
      this.expireAfterWrite = c.expireAfterWrite;
      this.perEntryTtl = c.perEntryTtl;
      this.recordStats = c.recordStats;
      this.keyCodec = c.keyCodec;
      this.valueCodec = c.valueCodec;
      this.ticker = c.ticker;
      this.clock = c.clock;
      this.executor = c.executor;
      this.removalListener = c.removalListener;
      this.backendOptions.putAll(c.backendOptions);
    }

    /** Chooses the backend by name ({@code local}, {@code redis}, {@code replicated-kafka}). */
    public Builder backend(String backend) {
      requireNonNull(backend, "backend");
      if (backend.isBlank()) {
        throw new IllegalArgumentException("backend must not be blank, was '" + backend + "'");
      }
      once("backend", this.backend);
      this.backend = backend;
      return this;
    }

    /** Bounds the cache to {@code maximumSize} entries; must be {@code >= 0}. */
    public Builder maximumSize(long maximumSize) {
      if (maximumSize < 0) {
        throw new IllegalArgumentException("maximumSize must be >= 0, was " + maximumSize);
      }
      once("maximumSize", this.maximumSize);
      this.maximumSize = maximumSize;
      return this;
    }

    /** Chooses how a full cache evicts. */
    public Builder evictionPolicy(EvictionPolicy evictionPolicy) {
      requireNonNull(evictionPolicy, "evictionPolicy");
      once("evictionPolicy", this.evictionPolicy);
      this.evictionPolicy = evictionPolicy;
      return this;
    }

    /** Makes entries expire {@code duration} after they are written; must be positive. */
    public Builder expireAfterWrite(Duration duration) {
      requireNonNull(duration, "expireAfterWrite");
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("expireAfterWrite must be > 0, was " + duration);
      }
      once("expireAfterWrite", this.expireAfterWrite);
      this.expireAfterWrite = duration;
      return this;
    }

    /** Allows or forbids per-entry time to live ({@code put} with a TTL, {@code expire}); allowed by default. */
    public Builder perEntryTtl(boolean allowed) {
      once("perEntryTtl", this.perEntryTtl);
      this.perEntryTtl = allowed;
      return this;
    }

    /** Turns statistics on or off; on by default. */
    public Builder recordStats(boolean enabled) {
      once("recordStats", this.recordStats);
      this.recordStats = enabled;
      return this;
    }

    /** Sets the codec remote backends use for keys; UTF-8 strings by default. */
    public Builder keyCodec(Codec<?> codec) {
      requireNonNull(codec, "keyCodec");
      once("keyCodec", this.keyCodec);
      this.keyCodec = codec;
      return this;
    }

    /** Sets the codec remote backends use for values; UTF-8 strings by default. */
    public Builder valueCodec(Codec<?> codec) {
      requireNonNull(codec, "valueCodec");
      once("valueCodec", this.valueCodec);
      this.valueCodec = codec;
      return this;
    }

    /** Sets the time source for expiry; tests pass a {@link FakeTicker}. */
    public Builder ticker(Ticker ticker) {
      requireNonNull(ticker, "ticker");
      once("ticker", this.ticker);
      this.ticker = ticker;
      return this;
    }

    /** Sets the wall clock; tests pass a {@link FakeTicker}. */
    public Builder clock(InstantSource clock) {
      requireNonNull(clock, "clock");
      once("clock", this.clock);
      this.clock = clock;
      return this;
    }

    /** Sets the executor for listeners and maintenance; tests may pass {@code Runnable::run}. */
    public Builder executor(Executor executor) {
      requireNonNull(executor, "executor");
      once("executor", this.executor);
      this.executor = executor;
      return this;
    }

    /** Sets the listener told about every removal. */
    public Builder removalListener(RemovalListener<?, ?> listener) {
      requireNonNull(listener, "removalListener");
      once("removalListener", this.removalListener);
      this.removalListener = listener;
      return this;
    }

    /** Adds options for a backend; one instance per options class. */
    public Builder backendOptions(BackendOptions options) {
      requireNonNull(options, "backendOptions");
      Class<?> type = options.getClass();
      once("backendOptions:" + type.getName(), backendOptions.get(type));
      backendOptions.put(type, options);
      return this;
    }

    /**
     * Sets a core option from its text form, as found in a properties file.
     *
     * <p>Durations accept {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} or ISO-8601
     * ({@code PT5M}); codecs accept {@code string}, {@code bytes} or {@code java}.
     *
     * @throws IllegalArgumentException naming the option if it is unknown or its value is invalid
     */
    public Builder option(String option, String value) {
      requireNonNull(option, "option");
      requireNonNull(value, "value");
      String v = value.trim();
      switch (option) {
        case "backend" -> backend(v);
        case "maximumSize" -> maximumSize(OptionValues.parseLong(option, v));
        case "evictionPolicy" -> evictionPolicy(parsePolicy(v));
        case "expireAfterWrite" -> expireAfterWrite(Durations.parse(option, v));
        case "perEntryTtl" -> perEntryTtl(OptionValues.parseBoolean(option, v));
        case "recordStats" -> recordStats(OptionValues.parseBoolean(option, v));
        case "keyCodec" -> keyCodec(Codecs.named(option, v));
        case "valueCodec" -> valueCodec(Codecs.named(option, v));
        default ->
            throw new IllegalArgumentException(
                "unknown option '" + option + "' for cache '" + name + "'; known options: "
                    + new java.util.TreeSet<>(OPTION_NAMES));
      }
      return this;
    }

    /** Returns the immutable configuration. */
    public CacheConfig build() {
      return new CacheConfig(this);
    }

    private void once(String option, @Nullable Object current) {
      if (!explicitlySet.add(option)) {
        throw new IllegalStateException(option + " was already set to " + current);
      }
    }



    private static EvictionPolicy parsePolicy(String v) {
      String normalized = v.toUpperCase(Locale.ROOT).replace('-', '_');
      for (EvictionPolicy policy : EvictionPolicy.values()) {
        if (policy.name().equals(normalized)) {
          return policy;
        }
      }
      throw new IllegalArgumentException(
          "evictionPolicy must be one of " + java.util.Arrays.toString(EvictionPolicy.values())
              + ", was '" + v + "'");
    }
  }
}
