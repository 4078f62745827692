package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import io.cachet.BackendOptions;
import io.cachet.CacheConfig;
import io.cachet.Ticker;
import io.cachet.internal.Durations;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.configuration.Factory;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.expiry.Duration;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.expiry.ModifiedExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheWriter;
import org.jspecify.annotations.Nullable;

/**
 * A JCache configuration that also chooses the Cachet backend behind the cache and its options.
 *
 * <pre>{@code
 * CachetConfiguration<String, String> config = new CachetConfiguration<String, String>()
 *     .setBackend("local")
 *     .setOption("maximumSize", "10000")
 *     .setOption("evictionPolicy", "LRU")
 *     .setTypes(String.class, String.class);
 * Cache<String, String> cache = cacheManager.createCache("users", config);
 * }</pre>
 *
 * <p>Options use the names and text forms of {@link CacheConfig.Builder#option(String, String)}.
 * They map onto JCache as follows: {@code backend}, {@code maximumSize}, {@code evictionPolicy},
 * {@code recordStats} and {@code perEntryTtl} configure the backing Cachet cache;
 * {@code expireAfterWrite} sets a {@link ModifiedExpiryPolicy} of that duration (JCache expiry is
 * kept by the JCache layer, so listeners see {@code EXPIRED} events); {@code keyCodec} and
 * {@code valueCodec} choose how remote backends encode keys and values (Java serialization by
 * default). Unlike a plain Cachet cache, a JCache cache is unbounded unless {@code maximumSize} is
 * set, since JCache does not expect evictions.
 *
 * <p>Any other JCache {@link CompleteConfiguration} is accepted too; it gets the default backend:
 * {@code local}, unless the manager's properties or the JVM's system properties set
 * {@code cachet.jcache.default.backend} (see {@link CachetCacheManager}). Like {@link MutableConfiguration}, instances are not thread-safe; a cache takes
 * its own copy when it is created.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public class CachetConfiguration<K, V> extends MutableConfiguration<K, V> {

  private static final long serialVersionUID = 1L;

  /** The option names this configuration accepts: those of {@link CacheConfig#OPTION_NAMES}. */
  public static final Set<String> OPTION_NAMES = CacheConfig.OPTION_NAMES;

  private String backend = CacheConfig.DEFAULT_BACKEND;
  private boolean backendChosen;
  private final LinkedHashMap<String, String> options = new LinkedHashMap<>();
  private transient List<BackendOptions> backendOptions = new ArrayList<>();
  private transient @Nullable InstantSource clock;
  private transient @Nullable Executor executor;

  /** Creates a configuration with the JCache defaults and the {@code local} backend. */
  public CachetConfiguration() {}

  /**
   * Copies {@code configuration}; when it is a {@code CachetConfiguration} its backend, options,
   * clock and executor are copied too.
   */
  public CachetConfiguration(CompleteConfiguration<K, V> configuration) {
    super(requireNonNull(configuration, "configuration"));
    if (configuration instanceof CachetConfiguration<K, V> other) {
      this.backend = other.backend;
      this.backendChosen = other.backendChosen;
      this.options.putAll(other.options);
      this.backendOptions = new ArrayList<>(other.backendOptions());
      this.clock = other.clock;
      this.executor = other.executor;
    }
  }

  /**
   * Returns a {@code CachetConfiguration} holding {@code configuration}: a copy of it when it is a
   * {@link CompleteConfiguration}, otherwise the JCache defaults with its types and
   * store-by-value setting.
   */
  public static <K, V> CachetConfiguration<K, V> copyOf(Configuration<K, V> configuration) {
    requireNonNull(configuration, "configuration");
    if (configuration instanceof CompleteConfiguration<K, V> complete) {
      return new CachetConfiguration<>(complete);
    }
    CachetConfiguration<K, V> copy = new CachetConfiguration<>();
    copy.setTypes(configuration.getKeyType(), configuration.getValueType());
    copy.setStoreByValue(configuration.isStoreByValue());
    return copy;
  }

  /**
   * Returns the name of the Cachet backend: {@code local} unless chosen. A cache created from a
   * configuration that does not choose one gets its manager's default backend
   * ({@code cachet.jcache.default.backend}), {@code local} unless set.
   */
  public String getBackend() {
    return backend;
  }

  /** Chooses the Cachet backend by name ({@code local}, {@code redis}, {@code replicated-kafka}). */
  public CachetConfiguration<K, V> setBackend(String backend) {
    requireNonNull(backend, "backend");
    if (backend.isBlank()) {
      throw new IllegalArgumentException("backend must not be blank, was '" + backend + "'");
    }
    this.backend = backend;
    this.backendChosen = true;
    return this;
  }

  /**
   * Returns whether {@link #setBackend} (or the {@code backend} option) chose the backend; when it
   * did not, the cache manager's default backend applies (see {@link CachetCacheManager}).
   */
  boolean isBackendChosen() {
    return backendChosen;
  }

  /**
   * Sets a Cachet option from its text form, as in a properties file: {@code maximumSize=10000},
   * {@code evictionPolicy=LRU}, {@code expireAfterWrite=5m}, ...
   *
   * @throws IllegalArgumentException naming the option if it is unknown or its value is invalid
   */
  public CachetConfiguration<K, V> setOption(String option, String value) {
    requireNonNull(option, "option");
    requireNonNull(value, "value");
    if (!OPTION_NAMES.contains(option)) {
      throw new IllegalArgumentException(
          "unknown option '" + option + "'; known options: " + new TreeSet<>(OPTION_NAMES));
    }
    // Validates the value with the same rules (and messages) as a Cachet configuration.
    CacheConfig.builder("validation").option(option, value);
    switch (option) {
      case "backend" -> setBackend(value.trim());
      case "expireAfterWrite" -> {
        java.time.Duration ttl = Durations.parse(option, value.trim());
        setExpiryPolicyFactory(
            ModifiedExpiryPolicy.factoryOf(new Duration(TimeUnit.MILLISECONDS, Math.max(1, ttl.toMillis()))));
        options.put(option, value.trim());
      }
      default -> options.put(option, value.trim());
    }
    return this;
  }

  /** Returns the options set with {@link #setOption}, in the order they were set. */
  public Map<String, String> getOptions() {
    return Collections.unmodifiableMap(options);
  }

  /** Adds options for the backend, such as {@code RedisOptions}; one instance per options class. */
  public CachetConfiguration<K, V> addBackendOptions(BackendOptions options) {
    requireNonNull(options, "options");
    for (BackendOptions existing : backendOptions()) {
      if (existing.getClass() == options.getClass()) {
        throw new IllegalStateException(options.getClass().getSimpleName() + " were already added");
      }
    }
    backendOptions().add(options);
    return this;
  }

  /** Returns the backend options added with {@link #addBackendOptions}. */
  public List<BackendOptions> getBackendOptions() {
    return Collections.unmodifiableList(backendOptions());
  }

  /**
   * Sets the clock that JCache expiry reads (and, when it is also a {@link Ticker}, the one that
   * statistics timings read); tests pass a {@link io.cachet.FakeTicker}. The system clock by
   * default.
   */
  public CachetConfiguration<K, V> setClock(InstantSource clock) {
    this.clock = requireNonNull(clock, "clock");
    return this;
  }

  /** Returns the clock set with {@link #setClock}, if any. */
  public Optional<InstantSource> getClock() {
    return Optional.ofNullable(clock);
  }

  /**
   * Sets the executor that delivers events to asynchronous listeners and runs {@code loadAll};
   * tests may pass {@code Runnable::run} (listeners still never run under a cache lock). By default
   * the cache manager's own threads. Synchronous listeners run on the thread that made the change
   * (or on the one already delivering to them), so no executor can hold them up.
   */
  public CachetConfiguration<K, V> setExecutor(Executor executor) {
    this.executor = requireNonNull(executor, "executor");
    return this;
  }

  /** Returns the executor set with {@link #setExecutor}, if any. */
  public Optional<Executor> getExecutor() {
    return Optional.ofNullable(executor);
  }

  // Covariant overrides, so that chains keep the CachetConfiguration type.

  @Override
  public CachetConfiguration<K, V> setTypes(Class<K> keyType, Class<V> valueType) {
    super.setTypes(keyType, valueType);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> addCacheEntryListenerConfiguration(
      CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    super.addCacheEntryListenerConfiguration(listenerConfiguration);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> removeCacheEntryListenerConfiguration(
      CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    super.removeCacheEntryListenerConfiguration(listenerConfiguration);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setCacheLoaderFactory(
      @Nullable Factory<? extends CacheLoader<K, V>> factory) {
    super.setCacheLoaderFactory(factory);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setCacheWriterFactory(
      @Nullable Factory<? extends CacheWriter<? super K, ? super V>> factory) {
    super.setCacheWriterFactory(factory);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setExpiryPolicyFactory(
      @Nullable Factory<? extends ExpiryPolicy> factory) {
    super.setExpiryPolicyFactory(factory);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setReadThrough(boolean isReadThrough) {
    super.setReadThrough(isReadThrough);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setWriteThrough(boolean isWriteThrough) {
    super.setWriteThrough(isWriteThrough);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setStoreByValue(boolean isStoreByValue) {
    super.setStoreByValue(isStoreByValue);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setStatisticsEnabled(boolean enabled) {
    super.setStatisticsEnabled(enabled);
    return this;
  }

  @Override
  public CachetConfiguration<K, V> setManagementEnabled(boolean enabled) {
    super.setManagementEnabled(enabled);
    return this;
  }

  @Override
  public boolean equals(@Nullable Object other) {
    if (this == other) {
      return true;
    }
    if (!(other instanceof CachetConfiguration<?, ?> that) || !super.equals(other)) {
      return false;
    }
    return backend.equals(that.backend)
        && options.equals(that.options)
        && backendOptions().equals(that.backendOptions())
        && Objects.equals(clock, that.clock)
        && Objects.equals(executor, that.executor);
  }

  @Override
  public int hashCode() {
    return 31 * super.hashCode() + Objects.hash(backend, options);
  }

  @Override
  public String toString() {
    return "CachetConfiguration{backend=" + backend + ", options=" + options
        + ", keyType=" + getKeyType().getName() + ", valueType=" + getValueType().getName()
        + ", storeByValue=" + isStoreByValue() + ", readThrough=" + isReadThrough()
        + ", writeThrough=" + isWriteThrough() + ", statisticsEnabled=" + isStatisticsEnabled()
        + ", managementEnabled=" + isManagementEnabled() + "}";
  }

  private List<BackendOptions> backendOptions() {
    // Null after deserialization: backend options are not serializable in general.
    if (backendOptions == null) {
      backendOptions = new ArrayList<>();
    }
    return backendOptions;
  }
}
