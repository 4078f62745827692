package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import io.cachet.spi.CompletedAsyncCache;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A backend like Redis as the JCache layer sees it: it never reports the entries it drops (the test
 * drops them with {@link #forget}), and it can be made to fail like an unreachable server.
 * Registered as backend {@code fake-remote} in this module's service file.
 */
final class FakeRemoteBackend<K, V> implements Cache<K, V> {

  /** The backend name. */
  static final String NAME = "fake-remote";

  /** When set, {@link #clear()} waits for it (a slow clear of a large remote cache). */
  static final AtomicReference<CountDownLatch> CLEAR_GATE = new AtomicReference<>();
  /** Counted down when a clear starts waiting for {@link #CLEAR_GATE}. */
  static volatile CountDownLatch CLEARING = new CountDownLatch(1);

  /** When set, the next cache created answers {@link #config()} with a failure, once. */
  static final AtomicBoolean FAIL_NEXT_CONFIG = new AtomicBoolean();

  private final CacheConfig<K, V> config;
  private final BackendContext context;
  private final Map<K, V> map = new ConcurrentHashMap<>();
  private final AtomicBoolean failConfig = new AtomicBoolean(FAIL_NEXT_CONFIG.getAndSet(false));
  volatile boolean unavailable;
  volatile boolean closed;

  private FakeRemoteBackend(CacheConfig<K, V> config, BackendContext context) {
    this.config = config;
    this.context = context;
  }

  /** The provider {@link java.util.ServiceLoader} finds. */
  public static final class Provider implements CacheBackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public Provider() {}

    @Override
    public String name() {
      return NAME;
    }

    @Override
    public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
      return new FakeRemoteBackend<>(config, context);
    }
  }

  /** Drops an entry without telling anybody, as Redis does when a key's time to live runs out. */
  void forget(K key) {
    map.remove(key);
  }

  private void check() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    if (unavailable) {
      throw new BackendUnavailableException("the fake server is down", new java.io.IOException("refused"));
    }
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public CacheConfig<K, V> config() {
    if (failConfig.getAndSet(false)) {
      throw new IllegalStateException("config() failed on purpose");
    }
    return config;
  }

  @Override
  public V get(K key) {
    check();
    return map.get(requireNonNull(key));
  }

  @Override
  public V get(K key, Function<? super K, ? extends V> loader) {
    check();
    return map.computeIfAbsent(key, loader);
  }

  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    Map<K, V> found = new LinkedHashMap<>();
    for (K key : keys) {
      V value = get(key);
      if (value != null) {
        found.put(key, value);
      }
    }
    return found;
  }

  @Override
  public Map<K, V> getAll(
      Iterable<? extends K> keys,
      Function<? super java.util.Set<? extends K>, ? extends Map<? extends K, ? extends V>> bulkLoader) {
    Map<K, V> found = getAll(keys);
    java.util.Set<K> missing = new java.util.LinkedHashSet<>();
    keys.forEach(key -> {
      if (!found.containsKey(key)) {
        missing.add(key);
      }
    });
    if (!missing.isEmpty()) {
      bulkLoader.apply(missing).forEach((key, value) -> {
        map.putIfAbsent(key, value);
        if (missing.contains(key)) {
          found.put(key, map.get(key));
        }
      });
    }
    return found;
  }

  @Override
  public void put(K key, V value) {
    check();
    map.put(key, value);
  }

  @Override
  public void put(K key, V value, Duration ttl) {
    put(key, value);
  }

  @Override
  public void putAll(Map<? extends K, ? extends V> entries) {
    entries.forEach(this::put);
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    check();
    return map.putIfAbsent(key, value) == null;
  }

  @Override
  public boolean replace(K key, V value) {
    check();
    return map.replace(key, value) != null;
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    check();
    return map.replace(key, oldValue, newValue);
  }

  @Override
  public boolean remove(K key) {
    check();
    return map.remove(key) != null;
  }

  @Override
  public boolean remove(K key, V value) {
    check();
    return map.remove(key, value);
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    check();
    return map.containsKey(key);
  }

  @Override
  public void clear() {
    check();
    CountDownLatch gate = CLEAR_GATE.get();
    if (gate != null) {
      CLEARING.countDown();
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    map.clear();
  }

  @Override
  public long estimatedSize() {
    return map.size();
  }

  @Override
  public CacheStats stats() {
    return CacheStats.empty();
  }

  @Override
  public AsyncCache<K, V> async() {
    return new CompletedAsyncCache<>(this);
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new IllegalArgumentException(type.getName());
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      context.closed(this);
    }
  }
}
