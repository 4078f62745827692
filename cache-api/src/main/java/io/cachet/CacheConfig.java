package io.cachet;

import static java.util.Objects.requireNonNull;

import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
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
 * CacheConfig<String, String> config = CacheConfig.builder("orders")
 *     .maximumSize(10_000)
 *     .evictionPolicy(EvictionPolicy.LRU)
 *     .expireAfterWrite(Duration.ofMinutes(5))
 *     .build();
 * }</pre>
 *
 * <p>A configuration is typed: its key and value types are fixed by the builder, so a
 * {@link CacheManager} hands back a {@code Cache<K, V>} without an unchecked cast. A new builder
 * has {@code String} keys and values (UTF-8 codecs); {@link Builder#keyCodec(Codec)} and
 * {@link Builder#valueCodec(Codec)} change a type to the codec's, and {@link Builder#keyType(Class)}
 * and {@link Builder#valueType(Class)} change it without a codec (enough for local caches; remote
 * backends, which store bytes, refuse a type without a codec when the cache is created):
 *
 * <pre>{@code
 * CacheConfig<Long, Order> orders = CacheConfig.builder("orders")
 *     .keyType(Long.class)
 *     .valueType(Order.class)
 *     .build();
 * }</pre>
 *
 * <p>The builder validates each option when it is set and accepts it only once, so a typo that
 * sets the same option twice fails fast. {@link #toBuilder()} starts a builder from an existing
 * configuration in which every option may be set once more. The same option names are used by
 * {@link CacheManager#fromProperties(java.util.Properties)}.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class CacheConfig<K, V> {

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
          "expireAfterAccess",
          "refreshAfterWrite",
          "perEntryTtl",
          "recordStats",
          "keyType",
          "valueType",
          "keyCodec",
          "valueCodec");

  private final String name;
  private final String backend;
  private final long maximumSize;
  private final EvictionPolicy evictionPolicy;
  private final @Nullable Duration expireAfterWrite;
  private final @Nullable Duration expireAfterAccess;
  private final @Nullable Duration refreshAfterWrite;
  private final boolean perEntryTtl;
  private final boolean recordStats;
  private final Class<K> keyType;
  private final Class<V> valueType;
  private final @Nullable Codec<K> keyCodec;
  private final @Nullable Codec<V> valueCodec;
  private final Ticker ticker;
  private final InstantSource clock;
  private final Executor executor;
  private final @Nullable RemovalListener<? super K, ? super V> removalListener;
  private final Map<Class<?>, BackendOptions> backendOptions;

  private CacheConfig(Builder<K, V> b) {
    this.name = b.name;
    this.backend = b.backend;
    this.maximumSize = b.maximumSize;
    this.evictionPolicy = b.evictionPolicy;
    this.expireAfterWrite = b.expireAfterWrite;
    this.expireAfterAccess = b.expireAfterAccess;
    this.refreshAfterWrite = b.refreshAfterWrite;
    this.perEntryTtl = b.perEntryTtl;
    this.recordStats = b.recordStats;
    this.keyType = b.keyType;
    this.valueType = b.valueType;
    this.keyCodec = b.keyCodec;
    this.valueCodec = b.valueCodec;
    this.ticker = b.ticker;
    this.clock = b.clock;
    this.executor = b.executor;
    this.removalListener = b.removalListener;
    this.backendOptions = Map.copyOf(b.backendOptions);
  }

  /**
   * Starts a configuration for the cache called {@code name}, with {@code String} keys and values
   * encoded as UTF-8 until a type or codec option says otherwise.
   */
  public static Builder<String, String> builder(String name) {
    return new Builder<>(name);
  }

  /** Returns a builder holding this configuration's values; each option may be set once more. */
  public Builder<K, V> toBuilder() {
    return new Builder<>(this);
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

  /**
   * Returns how long an entry lives after it was last read or written, if entries expire when idle.
   * Backends that cannot track reads refuse it when the cache is created.
   */
  public Optional<Duration> expireAfterAccess() {
    return Optional.ofNullable(expireAfterAccess);
  }

  /**
   * Returns how old an entry must be before {@link Cache#get(Object, java.util.function.Function)
   * get(key, loader)} reloads it in the background, if entries are refreshed; see
   * {@link Builder#refreshAfterWrite(Duration)}.
   */
  public Optional<Duration> refreshAfterWrite() {
    return Optional.ofNullable(refreshAfterWrite);
  }

  /** Returns whether entries may carry their own time to live. */
  public boolean perEntryTtl() {
    return perEntryTtl;
  }

  /** Returns whether the cache keeps {@link CacheStats}. */
  public boolean recordStats() {
    return recordStats;
  }

  /** Returns the type of the keys. */
  public Class<K> keyType() {
    return keyType;
  }

  /** Returns the type of the values. */
  public Class<V> valueType() {
    return valueType;
  }

  /**
   * Returns the codec remote backends use for keys: the one set, or UTF-8 for {@code String} keys
   * when none was. (A {@code byte[]} key type gets the identity codec here too, but remote
   * backends refuse array keys: see {@link Builder#keyType(Class)}.)
   */
  public Optional<Codec<K>> keyCodec() {
    return Optional.ofNullable(keyCodec);
  }

  /** Returns the codec remote backends use for values, chosen as for {@link #keyCodec()}. */
  public Optional<Codec<V>> valueCodec() {
    return Optional.ofNullable(valueCodec);
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
  public Optional<RemovalListener<? super K, ? super V>> removalListener() {
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
        + ", keyType="
        + keyType.getName()
        + ", valueType="
        + valueType.getName()
        + ", maximumSize="
        + maximumSize
        + ", evictionPolicy="
        + evictionPolicy
        + ", expireAfterWrite="
        + expireAfterWrite
        + ", expireAfterAccess="
        + expireAfterAccess
        + ", refreshAfterWrite="
        + refreshAfterWrite
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
   *
   * <p>The type options ({@link #keyType}, {@link #valueType}, {@link #keyCodec},
   * {@link #valueCodec}) must come before {@link #removalListener}, whose type depends on them.
   * One that changes a type returns a new builder and retires this one: keep using the builder it
   * returns (chaining does). One that keeps the type (a codec of the same type) returns this
   * builder.
   *
   * @param <K> the key type
   * @param <V> the value type
   */
  public static final class Builder<K, V> {

    private final String name;
    private final Set<String> explicitlySet = new java.util.HashSet<>();
    private boolean retired;
    private String backend = DEFAULT_BACKEND;
    private long maximumSize = DEFAULT_MAXIMUM_SIZE;
    private EvictionPolicy evictionPolicy = DEFAULT_EVICTION_POLICY;
    private @Nullable Duration expireAfterWrite;
    private @Nullable Duration expireAfterAccess;
    private @Nullable Duration refreshAfterWrite;
    private boolean perEntryTtl = true;
    private boolean recordStats = true;
    private Class<K> keyType;
    private Class<V> valueType;
    private @Nullable Codec<K> keyCodec;
    private @Nullable Codec<V> valueCodec;
    private Ticker ticker = Ticker.system();
    private InstantSource clock = InstantSource.system();
    private Executor executor = ForkJoinPool.commonPool();
    private @Nullable RemovalListener<? super K, ? super V> removalListener;
    private final Map<Class<?>, BackendOptions> backendOptions = new LinkedHashMap<>();

    @SuppressWarnings("unchecked") // a new builder is Builder<String, String>
    private Builder(String name) {
      requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
      }
      this.name = name;
      this.keyType = (Class<K>) String.class;
      this.valueType = (Class<V>) String.class;
      this.keyCodec = (Codec<K>) Codecs.utf8();
      this.valueCodec = (Codec<V>) Codecs.utf8();
    }

    /**
     * Takes over {@code old}'s values and retires it; the caller sets the new types and codecs.
     * Nothing else held is typed by the key or value type (the removal listener is refused).
     */
    @SuppressWarnings("unchecked") // the caller replaces both typed fields it changes
    private Builder(Builder<?, ?> old) {
      this.name = old.name;
      this.explicitlySet.addAll(old.explicitlySet);
      this.backend = old.backend;
      this.maximumSize = old.maximumSize;
      this.evictionPolicy = old.evictionPolicy;
      this.expireAfterWrite = old.expireAfterWrite;
      this.expireAfterAccess = old.expireAfterAccess;
      this.refreshAfterWrite = old.refreshAfterWrite;
      this.perEntryTtl = old.perEntryTtl;
      this.recordStats = old.recordStats;
      this.keyType = (Class<K>) old.keyType;
      this.valueType = (Class<V>) old.valueType;
      this.keyCodec = (Codec<K>) old.keyCodec;
      this.valueCodec = (Codec<V>) old.valueCodec;
      this.ticker = old.ticker;
      this.clock = old.clock;
      this.executor = old.executor;
      this.backendOptions.putAll(old.backendOptions);
      old.retired = true;
    }

    private Builder(CacheConfig<K, V> c) {
      this.name = c.name;
      this.backend = c.backend;
      this.maximumSize = c.maximumSize;
      this.evictionPolicy = c.evictionPolicy;
      this.expireAfterWrite = c.expireAfterWrite;
      this.expireAfterAccess = c.expireAfterAccess;
      this.refreshAfterWrite = c.refreshAfterWrite;
      this.perEntryTtl = c.perEntryTtl;
      this.recordStats = c.recordStats;
      this.keyType = c.keyType;
      this.valueType = c.valueType;
      this.keyCodec = c.keyCodec;
      this.valueCodec = c.valueCodec;
      this.ticker = c.ticker;
      this.clock = c.clock;
      this.executor = c.executor;
      this.removalListener = c.removalListener;
      this.backendOptions.putAll(c.backendOptions);
    }

    /** Chooses the backend by name ({@code local}, {@code redis}, {@code replicated-kafka}). */
    public Builder<K, V> backend(String backend) {
      requireNonNull(backend, "backend");
      if (backend.isBlank()) {
        throw new IllegalArgumentException("backend must not be blank, was '" + backend + "'");
      }
      once("backend", this.backend);
      this.backend = backend;
      return this;
    }

    /** Bounds the cache to {@code maximumSize} entries; must be {@code >= 0}. */
    public Builder<K, V> maximumSize(long maximumSize) {
      if (maximumSize < 0) {
        throw new IllegalArgumentException("maximumSize must be >= 0, was " + maximumSize);
      }
      once("maximumSize", this.maximumSize);
      this.maximumSize = maximumSize;
      return this;
    }

    /** Chooses how a full cache evicts. */
    public Builder<K, V> evictionPolicy(EvictionPolicy evictionPolicy) {
      requireNonNull(evictionPolicy, "evictionPolicy");
      once("evictionPolicy", this.evictionPolicy);
      this.evictionPolicy = evictionPolicy;
      return this;
    }

    /** Makes entries expire {@code duration} after they are written; must be positive. */
    public Builder<K, V> expireAfterWrite(Duration duration) {
      requireNonNull(duration, "expireAfterWrite");
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("expireAfterWrite must be > 0, was " + duration);
      }
      once("expireAfterWrite", this.expireAfterWrite);
      this.expireAfterWrite = duration;
      return this;
    }

    /**
     * Makes entries expire {@code duration} after they were last read or written; must be
     * positive. Per-entry TTLs are then off unless {@code perEntryTtl(true)} was asked for, which
     * {@link #build()} refuses: an idle timeout and per-entry deadlines do not combine.
     */
    public Builder<K, V> expireAfterAccess(Duration duration) {
      requirePositive("expireAfterAccess", duration);
      once("expireAfterAccess", this.expireAfterAccess);
      this.expireAfterAccess = duration;
      return this;
    }

    /**
     * Makes {@link Cache#get(Object, java.util.function.Function) get(key, loader)} reload an
     * entry in the background once it is older than {@code duration}, as Caffeine's
     * {@code refreshAfterWrite} does; must be positive, and shorter than
     * {@link #expireAfterWrite(Duration) expireAfterWrite} when both are set.
     *
     * <p>A {@code get(key, loader)} that finds an entry written more than {@code duration} ago
     * returns that value at once and starts a reload of the key with the same loader on the
     * {@link #executor(java.util.concurrent.Executor) executor}; at most one load or reload of a
     * key runs at a time in a cache (concurrent callers, and a {@code get(key, loader)} that
     * misses meanwhile, share it). The reloaded value replaces the entry only if the entry was not
     * changed meanwhile (otherwise the reload is discarded); it then counts as a load and a put and
     * restarts the entry's write time and {@code expireAfterWrite} deadline, as a put does. A
     * reload that returns {@code null} removes nothing: the old value stays until it expires
     * (Caffeine removes it; here a read never turns into a removal, which on a shared backend
     * would remove the key for every node). A reload that fails keeps the old value, counts as a
     * load failure and is logged at WARN, at most once per 10 seconds per cache with the number
     * of failures not logged.
     *
     * <p>Only {@code get(key, loader)} refreshes: {@link Cache#get(Object) get(key)} has no loader,
     * and {@code getAll(keys, bulkLoader)} returns stale entries as they are without reloading
     * them. Backends that cannot tell an entry's age refuse the option when the cache is created
     * (docs/backends.md lists which, and why).
     */
    public Builder<K, V> refreshAfterWrite(Duration duration) {
      requirePositive("refreshAfterWrite", duration);
      once("refreshAfterWrite", this.refreshAfterWrite);
      this.refreshAfterWrite = duration;
      return this;
    }

    private static void requirePositive(String option, Duration duration) {
      requireNonNull(duration, option);
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException(option + " must be > 0, was " + duration);
      }
    }

    /** Allows or forbids per-entry time to live ({@code put} with a TTL, {@code expire}); allowed by default. */
    public Builder<K, V> perEntryTtl(boolean allowed) {
      once("perEntryTtl", this.perEntryTtl);
      this.perEntryTtl = allowed;
      return this;
    }

    /** Turns statistics on or off; on by default. */
    public Builder<K, V> recordStats(boolean enabled) {
      once("recordStats", this.recordStats);
      this.recordStats = enabled;
      return this;
    }

    /**
     * Makes the keys of type {@code type}. Remote backends then need a key codec for it, unless it
     * is {@code String} (UTF-8). Keys must have value equality: remote backends refuse array key
     * types, and a local cache would compare array keys by identity, so wrap bytes in a type with
     * {@code equals} (a {@code String}, a record, {@code ByteBuffer}).
     *
     * @throws IllegalArgumentException if a key codec of another type was set
     */
    public <K2> Builder<K2, V> keyType(Class<K2> type) {
      requireNonNull(type, "keyType");
      Codec<K2> codec = matchingCodec("keyType", type, keyCodec, explicitlySet.contains("keyCodec"));
      checkRetypable("keyType");
      once("keyType", keyType.getName());
      Builder<K2, V> next = successor(type == keyType);
      next.keyType = type;
      next.keyCodec = codec;
      return next;
    }

    /**
     * Makes the values of type {@code type}. Remote backends then need a value codec for it,
     * unless it is {@code String} (UTF-8) or {@code byte[]} (as is).
     *
     * @throws IllegalArgumentException if a value codec of another type was set
     */
    public <V2> Builder<K, V2> valueType(Class<V2> type) {
      requireNonNull(type, "valueType");
      Codec<V2> codec = matchingCodec("valueType", type, valueCodec, explicitlySet.contains("valueCodec"));
      checkRetypable("valueType");
      once("valueType", valueType.getName());
      Builder<K, V2> next = successor(type == valueType);
      next.valueType = type;
      next.valueCodec = codec;
      return next;
    }

    /**
     * Sets the codec remote backends use for keys, which also makes the keys of the codec's
     * {@link Codec#type() type}; UTF-8 strings by default.
     *
     * @throws IllegalArgumentException if a key type other than the codec's was set
     */
    public <K2> Builder<K2, V> keyCodec(Codec<K2> codec) {
      requireNonNull(codec, "keyCodec");
      requireSameType("keyCodec", codec, keyType, explicitlySet.contains("keyType"));
      checkRetypable("keyCodec");
      once("keyCodec", keyCodec);
      Builder<K2, V> next = successor(codec.type() == keyType);
      next.keyType = codec.type();
      next.keyCodec = codec;
      return next;
    }

    /**
     * Sets the codec remote backends use for values, which also makes the values of the codec's
     * {@link Codec#type() type}; UTF-8 strings by default.
     *
     * @throws IllegalArgumentException if a value type other than the codec's was set
     */
    public <V2> Builder<K, V2> valueCodec(Codec<V2> codec) {
      requireNonNull(codec, "valueCodec");
      requireSameType("valueCodec", codec, valueType, explicitlySet.contains("valueType"));
      checkRetypable("valueCodec");
      once("valueCodec", valueCodec);
      Builder<K, V2> next = successor(codec.type() == valueType);
      next.valueType = codec.type();
      next.valueCodec = codec;
      return next;
    }

    /** Sets the time source for expiry; tests pass a {@link FakeTicker}. */
    public Builder<K, V> ticker(Ticker ticker) {
      requireNonNull(ticker, "ticker");
      once("ticker", this.ticker);
      this.ticker = ticker;
      return this;
    }

    /** Sets the wall clock; tests pass a {@link FakeTicker}. */
    public Builder<K, V> clock(InstantSource clock) {
      requireNonNull(clock, "clock");
      once("clock", this.clock);
      this.clock = clock;
      return this;
    }

    /** Sets the executor for listeners and maintenance; tests may pass {@code Runnable::run}. */
    public Builder<K, V> executor(Executor executor) {
      requireNonNull(executor, "executor");
      once("executor", this.executor);
      this.executor = executor;
      return this;
    }

    /**
     * Sets the listener told about every removal the cache makes or is asked for. Local caches
     * only: the remote backends accept it and never call it (Redis does not report removals;
     * replicas never evict).
     */
    public Builder<K, V> removalListener(RemovalListener<? super K, ? super V> listener) {
      requireNonNull(listener, "removalListener");
      once("removalListener", this.removalListener);
      this.removalListener = listener;
      return this;
    }

    /**
     * Drops the removal listener this builder holds, such as one copied by
     * {@link CacheConfig#toBuilder()}, so that the key or value type can change; a listener for the
     * new types may be set after.
     */
    public Builder<K, V> withoutRemovalListener() {
      checkLive();
      this.removalListener = null;
      explicitlySet.remove("removalListener");
      return this;
    }

    /** Adds options for a backend; one instance per options class. */
    public Builder<K, V> backendOptions(BackendOptions options) {
      requireNonNull(options, "backendOptions");
      Class<?> type = options.getClass();
      once("backendOptions:" + type.getName(), backendOptions.get(type));
      backendOptions.put(type, options);
      return this;
    }

    /**
     * Sets a core option from its text form, as found in a properties file, and returns this
     * builder; the type options return it with types known only at run time.
     *
     * <p>Durations accept {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} or ISO-8601
     * ({@code PT5M}); codecs accept {@code string} (also {@code utf8}, {@code utf-8}), {@code bytes},
     * {@code java}, {@code java:<class name>} or {@code json:<class name>} (Jackson); types are class
     * names, loaded through {@code classLoader}.
     *
     * @throws IllegalArgumentException naming the option if it is unknown or its value is invalid
     */
    public Builder<?, ?> option(String option, String value, ClassLoader classLoader) {
      requireNonNull(option, "option");
      requireNonNull(value, "value");
      requireNonNull(classLoader, "classLoader");
      return CacheConfigProperties.set(this, option, value.trim(), classLoader);
    }

    /**
     * Sets a core option other than a type option from its text form, as found in a properties
     * file; see {@link #option(String, String, ClassLoader)}.
     *
     * @throws IllegalArgumentException naming the option if it is unknown, changes a type, or its
     *     value is invalid
     */
    public Builder<K, V> option(String option, String value) {
      requireNonNull(option, "option");
      requireNonNull(value, "value");
      CacheConfigProperties.setUntyped(this, name, option, value.trim());
      return this;
    }

    /**
     * Returns the immutable configuration.
     *
     * @throws IllegalStateException if options contradict each other: {@code expireAfterAccess}
     *     with {@code perEntryTtl(true)}
     * @throws IllegalArgumentException if {@code refreshAfterWrite} is not shorter than
     *     {@code expireAfterWrite}, naming both
     */
    public CacheConfig<K, V> build() {
      checkLive();
      if (refreshAfterWrite != null && expireAfterWrite != null
          && refreshAfterWrite.compareTo(expireAfterWrite) >= 0) {
        throw new IllegalArgumentException(
            "cache '" + name + "': refreshAfterWrite (" + refreshAfterWrite + ") must be shorter than"
                + " expireAfterWrite (" + expireAfterWrite + "), or an entry expires before it is refreshed");
      }
      if (expireAfterAccess != null) {
        if (perEntryTtl && explicitlySet.contains("perEntryTtl")) {
          throw new IllegalStateException(
              "cache '" + name + "': expireAfterAccess does not combine with per-entry TTLs;"
                  + " set perEntryTtl(false) or drop one");
        }
        perEntryTtl = false;
      }
      return new CacheConfig<>(this);
    }

    /** Refuses a type change once a removal listener, whose type depends on it, is set. */
    private void checkRetypable(String option) {
      checkLive();
      if (removalListener != null) {
        throw new IllegalStateException(
            option + " must be set before removalListener, whose type depends on it");
      }
    }

    /**
     * Returns the builder a type option continues with: this one when the type stays the same,
     * otherwise a new one holding these values, this one being retired so that its type
     * parameters cannot lie.
     */
    @SuppressWarnings("unchecked") // sameType: Builder<K2, V2> is Builder<K, V>
    private <K2, V2> Builder<K2, V2> successor(boolean sameType) {
      return sameType ? (Builder<K2, V2>) this : new Builder<>(this);
    }

    /** Refuses any use of a builder that a type option replaced by a new one. */
    private void checkLive() {
      if (retired) {
        throw new IllegalStateException(
            "this builder of cache '" + name + "' was replaced by the one a type option (keyType,"
                + " valueType, keyCodec, valueCodec) returned; use that one");
      }
    }

    /**
     * Returns the codec to use when the type becomes {@code type}: the current one if it was
     * chosen (it must handle {@code type}), else the built-in one for the type, if any.
     */
    @SuppressWarnings("unchecked") // checked: the codec's type() is type
    private static <T> @Nullable Codec<T> matchingCodec(
        String option, Class<T> type, @Nullable Codec<?> current, boolean setHere) {
      boolean chosen = setHere || (current != null && current != Codecs.utf8() && current != Codecs.bytes());
      if (chosen) {
        requireSameType(option, current, type, true);
        return (Codec<T>) current;
      }
      if (type == String.class) {
        return (Codec<T>) Codecs.utf8();
      }
      if (type == byte[].class) {
        return (Codec<T>) Codecs.bytes();
      }
      return null;
    }

    private static void requireSameType(
        String option, @Nullable Codec<?> codec, Class<?> type, boolean typeExplicit) {
      if (typeExplicit && codec != null && codec.type() != type) {
        throw new IllegalArgumentException(
            option + ": the codec handles " + codec.type().getName() + " but the type is "
                + type.getName());
      }
    }

    private void once(String option, @Nullable Object current) {
      checkLive();
      if (!explicitlySet.add(option)) {
        throw new IllegalStateException(option + " was already set to " + current);
      }
    }
  }
}
