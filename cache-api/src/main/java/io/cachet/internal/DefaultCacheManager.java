package io.cachet.internal;

import static java.util.Objects.requireNonNull;

import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link CacheManager} behind {@link CacheManager#builder()}.
 *
 * <p>Creation of a cache or a shared resource may be slow (a Redis connection, a Kafka replay), so
 * neither happens under a lock: a name is reserved with a future in a concurrent map, and anyone
 * asking for it meanwhile waits on that future.
 */
public final class DefaultCacheManager implements CacheManager {

  private static final Logger log = LoggerFactory.getLogger(DefaultCacheManager.class);

  /** Where each known backend lives, for the error when one is missing. */
  private static final Map<String, String> KNOWN_MODULES =
      Map.of(
          "local", "io.cachet:cache-local",
          "redis", "io.cachet:cache-redis",
          "replicated-kafka", "io.cachet:cache-replicated-kafka");

  private final Map<String, CacheBackendProvider> providers;
  private final ConcurrentHashMap<String, CompletableFuture<Cache<?, ?>>> caches =
      new ConcurrentHashMap<>();
  /**
   * Notified, under its own monitor, whenever a cache gives its name back or the manager closes:
   * a creator waiting for a closing cache's name re-checks then.
   */
  private final Object released = new Object();
  /** How long a creator waits for a closing cache of its name to release it. */
  static final long RELEASE_WAIT_MILLIS = 60_000;
  private final ConcurrentHashMap<Object, CompletableFuture<AutoCloseable>> resources =
      new ConcurrentHashMap<>();
  private final List<AutoCloseable> resourcesInOrder = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean closed;
  /** The thread that closes this manager; set once, by the first {@link #close()}. */
  private final AtomicReference<@Nullable Thread> closer = new AtomicReference<>();
  private final CompletableFuture<Void> closeDone = new CompletableFuture<>();

  private DefaultCacheManager(Map<String, CacheBackendProvider> providers) {
    this.providers = providers;
  }

  /** Creates a manager and every cache declared in {@code properties}. */
  public static DefaultCacheManager create(
      ClassLoader loader, List<CacheBackendProvider> explicit, Properties properties, String source) {
    Map<String, CacheBackendProvider> providers = new LinkedHashMap<>();
    try {
      for (CacheBackendProvider provider : ServiceLoader.load(CacheBackendProvider.class, loader)) {
        providers.putIfAbsent(provider.name(), provider);
      }
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException("cannot load Cachet backends: " + e.getMessage(), e);
    }
    for (CacheBackendProvider provider : explicit) {
      providers.put(provider.name(), provider);
    }
    DefaultCacheManager manager = new DefaultCacheManager(Map.copyOf(providers));
    List<CacheConfig<?, ?>> declared = manager.parse(properties, source, loader);
    try {
      for (CacheConfig<?, ?> config : declared) {
        manager.create(config);
      }
    } catch (Throwable e) { // an Error or a checked exception thrown around the compiler too
      manager.close();
      throw e;
    }
    return manager;
  }

  @Override
  public <K, V> Cache<K, V> create(CacheConfig<K, V> config) {
    Cache<K, V> cache = tryCreate(config);
    if (cache == null) {
      throw new IllegalStateException("a cache named '" + config.name() + "' already exists");
    }
    return cache;
  }

  /**
   * Creates the cache, waiting first for a closing cache of its name to release it; returns null
   * when another cache of the name exists or is being created.
   */
  private <K, V> @Nullable Cache<K, V> tryCreate(CacheConfig<K, V> config) {
    requireNonNull(config, "config");
    checkOpen();
    CacheBackendProvider provider = provider(config.backend(), config.name());
    provider.checkSupported(config);
    CompletableFuture<Cache<?, ?>> slot = new CompletableFuture<>();
    for (CompletableFuture<Cache<?, ?>> existing; (existing = caches.putIfAbsent(config.name(), slot)) != null; ) {
      Cache<?, ?> old = existing.isDone() && !existing.isCompletedExceptionally() ? existing.join() : null;
      if (old == null || !old.isClosed()) {
        return null;
      }
      awaitRelease(config.name(), existing);
      checkOpen();
    }
    Cache<K, V> cache;
    try {
      cache = provider.create(config, new Context());
    } catch (Throwable e) { // a checked exception thrown around the compiler too: never a stuck slot
      caches.remove(config.name(), slot);
      slot.completeExceptionally(e);
      throw e;
    }
    slot.complete(cache);
    if (closed) {
      cache.close();
      throw new IllegalStateException("the cache manager was closed while creating '" + config.name() + "'");
    }
    return cache;
  }

  /**
   * Waits until the closed cache of {@code slot} has released its resources and given its name back
   * (a replicated cache's threads, for instance, may take seconds to stop), so that a new cache of
   * the name never runs beside it.
   */
  private void awaitRelease(String name, CompletableFuture<Cache<?, ?>> slot) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RELEASE_WAIT_MILLIS);
    synchronized (released) {
      // The closer removes the slot before it notifies, under this monitor: no lost wake-up.
      while (caches.get(name) == slot && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("cache '" + name + "' is still closing after "
              + RELEASE_WAIT_MILLIS + " ms; its name cannot be taken yet");
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(released, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while cache '" + name + "' was closing", e);
        }
      }
    }
  }

  @Override
  public <K, V> Cache<K, V> getOrCreate(CacheConfig<K, V> config) {
    requireNonNull(config, "config");
    while (true) {
      Cache<K, V> existing = getCache(config.name(), config.keyType(), config.valueType());
      if (existing != null) {
        return existing;
      }
      Cache<K, V> created = tryCreate(config);
      if (created != null) {
        return created;
      }
      // Lost a race with another creator of the name: return theirs, or try again if it is gone.
    }
  }

  @Override
  public <K, V> @Nullable Cache<K, V> getCache(String name, Class<K> keyType, Class<V> valueType) {
    requireNonNull(keyType, "keyType");
    requireNonNull(valueType, "valueType");
    Cache<?, ?> cache = getCache(name);
    return cache == null ? null : typed(cache, keyType, valueType);
  }

  @Override
  public @Nullable Cache<?, ?> getCache(String name) {
    requireNonNull(name, "name");
    checkOpen();
    CompletableFuture<Cache<?, ?>> slot = caches.get(name);
    if (slot == null) {
      return null;
    }
    try {
      Cache<?, ?> cache = slot.join();
      return cache.isClosed() ? null : cache; // closing: it only holds the name until released
    } catch (CompletionException e) {
      return null;
    }
  }

  /** Returns {@code cache} as a {@code Cache<K, V>} after checking that those are its types. */
  @SuppressWarnings("unchecked") // checked against the configuration's types just before
  private static <K, V> Cache<K, V> typed(Cache<?, ?> cache, Class<K> keyType, Class<V> valueType) {
    CacheConfig<?, ?> config = cache.config();
    if (config.keyType() != keyType || config.valueType() != valueType) {
      throw new IllegalArgumentException(
          "cache '" + cache.name() + "' holds " + config.keyType().getName() + " -> "
              + config.valueType().getName() + ", not " + keyType.getName() + " -> "
              + valueType.getName());
    }
    return (Cache<K, V>) cache;
  }

  @Override
  public Set<String> cacheNames() {
    checkOpen();
    Set<String> names = new TreeSet<>();
    caches.forEach(
        (name, slot) -> {
          if (slot.isDone() && !slot.isCompletedExceptionally() && !slot.join().isClosed()) {
            names.add(name);
          }
        });
    return Collections.unmodifiableSet(names);
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /**
   * {@inheritDoc} A call while another thread closes the manager returns once that close is done
   * (a call from the closing thread itself, from a cache's close, returns at once).
   */
  @Override
  public void close() {
    Thread me = Thread.currentThread();
    if (!closer.compareAndSet(null, me)) {
      if (closer.get() != me) {
        closeDone.join();
      }
      return;
    }
    closed = true;
    try {
      closeCachesAndResources();
    } finally {
      closeDone.complete(null);
    }
  }

  private void closeCachesAndResources() {
    boolean interrupted = false;
    for (CompletableFuture<Cache<?, ?>> slot : List.copyOf(caches.values())) {
      Cache<?, ?> cache = slot.getNow(null);
      if (cache != null) {
        try {
          cache.close();
        } catch (RuntimeException e) {
          log.warn("Closing cache '{}' failed", cache.name(), e);
        }
        interrupted |= awaitForgotten(cache.name(), slot);
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt(); // once all are closed: a release may stop short on the flag
    }
    caches.clear();
    synchronized (released) {
      released.notifyAll(); // creators waiting for a closing cache's name: the manager is closed
    }
    List<AutoCloseable> toClose;
    synchronized (resourcesInOrder) {
      toClose = new ArrayList<>(resourcesInOrder);
      resourcesInOrder.clear();
    }
    Collections.reverse(toClose);
    for (AutoCloseable resource : toClose) {
      try {
        resource.close();
      } catch (Exception e) {
        log.warn("Closing backend resource {} failed", resource, e);
      }
    }
    resources.clear();
  }

  /**
   * Waits until the cache of {@code slot} has told the manager it released what it held: another
   * thread may have begun closing it, and its {@code close()} then returns at once, while that
   * thread's release still uses the shared resources closed next. Bounded by {@link
   * #RELEASE_WAIT_MILLIS} (a release that calls this manager's close, or a backend that never
   * tells), then it goes on with a WARN. Not cut short by an interrupt: returns whether one came.
   */
  private boolean awaitForgotten(String name, CompletableFuture<Cache<?, ?>> slot) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RELEASE_WAIT_MILLIS);
    boolean interrupted = false;
    synchronized (released) {
      while (caches.get(name) == slot) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          log.warn("Cache '{}' has not finished closing after {} ms; closing the shared resources anyway",
              name, RELEASE_WAIT_MILLIS);
          break;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(released, left);
        } catch (InterruptedException e) {
          interrupted = true; // as the manager's own close: the resources must not close under a release
        }
      }
    }
    return interrupted;
  }

  private CacheBackendProvider provider(String backend, String cacheName) {
    CacheBackendProvider provider = providers.get(backend);
    if (provider == null) {
      String module = KNOWN_MODULES.get(backend);
      throw new IllegalStateException(
          "cache '" + cacheName + "' asks for backend '" + backend + "', which is not on the class path"
              + (module != null ? "; add the " + module + " module" : "")
              + " (available: " + new TreeSet<>(providers.keySet()) + ")");
    }
    return provider;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the cache manager is closed");
    }
  }

  /**
   * Parses {@code cache.<name>.<option>=value} declarations. A cache name may contain dots; the
   * option is recognised as the last segment (core options) or as {@code <backend>.<option>}.
   */
  private List<CacheConfig<?, ?>> parse(Properties properties, String source, ClassLoader loader) {
    List<CacheConfig<?, ?>> configs = new ArrayList<>();
    for (Map.Entry<String, CacheProperties.Declaration> declared :
        CacheProperties.parse(properties, source, providers.keySet()).entrySet()) {
      String name = declared.getKey();
      CacheConfig.Builder<?, ?> builder = CacheConfig.builder(name);
      Map<String, String> options = declared.getValue().options();
      for (Map.Entry<String, String> option : options.entrySet()) {
        try {
          builder = builder.option(option.getKey(), option.getValue(), loader);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "cache." + name + "." + option.getKey() + " in " + source + ": " + e.getMessage(), e);
        }
      }
      for (Map.Entry<String, Map<String, String>> entry :
          declared.getValue().backendOptions().entrySet()) {
        String chosen = options.getOrDefault("backend", CacheConfig.DEFAULT_BACKEND).trim();
        if (!entry.getKey().equals(chosen)) {
          throw new IllegalArgumentException(
              "cache." + name + "." + entry.getKey() + ".* in " + source + ": cache '" + name
                  + "' uses backend '" + chosen + "', not '" + entry.getKey() + "'");
        }
        try {
          CacheConfig.Builder<?, ?> b = builder;
          providers.get(entry.getKey()).parseOptions(entry.getValue()).ifPresent(b::backendOptions);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "cache." + name + "." + entry.getKey() + " in " + source + ": " + e.getMessage(), e);
        }
      }
      configs.add(builder.build());
    }
    return configs;
  }

  private final class Context implements BackendContext {

    @Override
    public <R extends AutoCloseable> R sharedResource(Object key, Class<R> type, Supplier<R> factory) {
      requireNonNull(key, "key");
      requireNonNull(factory, "factory");
      checkOpen();
      CompletableFuture<AutoCloseable> slot = new CompletableFuture<>();
      CompletableFuture<AutoCloseable> existing = resources.putIfAbsent(key, slot);
      if (existing != null) {
        try {
          return type.cast(existing.join());
        } catch (CompletionException e) {
          // The start this caller waited for failed. An unreachable backend fails this caller as
          // it failed the starter, with this caller's own stack and the starter's as the cause.
          Throwable cause = e.getCause();
          if (cause instanceof BackendUnavailableException unavailable) {
            throw new BackendUnavailableException(unavailable.getMessage(), unavailable);
          }
          throw new IllegalStateException("shared resource " + key + " failed to start", cause);
        }
      }
      R resource;
      try {
        resource = requireNonNull(factory.get(), "factory returned null");
      } catch (Throwable e) { // a checked exception thrown around the compiler too: never a stuck slot
        resources.remove(key, slot);
        slot.completeExceptionally(e);
        throw e;
      }
      // Under the list's lock, against close(): either close() finds the resource in the list, or
      // this finds the manager closed and closes it here; never a resource nobody closes.
      synchronized (resourcesInOrder) {
        if (!closed) {
          resourcesInOrder.add(resource);
          slot.complete(resource);
          return resource;
        }
      }
      IllegalStateException closedMeanwhile =
          new IllegalStateException("the cache manager was closed while shared resource " + key + " was starting");
      resources.remove(key, slot);
      slot.completeExceptionally(closedMeanwhile);
      try {
        resource.close();
      } catch (Exception e) {
        closedMeanwhile.addSuppressed(e);
      }
      throw closedMeanwhile;
    }

    @Override
    public void closed(Cache<?, ?> cache) {
      caches.computeIfPresent(
          cache.name(), (name, slot) -> slot.getNow(null) == cache ? null : slot);
      synchronized (released) {
        released.notifyAll();
      }
    }
  }
}
