package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import io.cachet.codec.Codec;
import io.cachet.jcache.spi.CachetCachingProvider;
import io.cachet.spi.CacheBackendProvider;
import java.io.Serializable;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.Configuration;
import javax.cache.spi.CachingProvider;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JCache {@link CacheManager} of the Cachet provider: owns one Cachet
 * {@link io.cachet.CacheManager}, whose caches back its JCache caches, and the threads that deliver
 * entry events. Thread-safe.
 *
 * <p>Applications get instances from {@link javax.cache.Caching#getCachingProvider()}; one exists
 * per URI and class loader. When the URI has the {@code classpath:}, {@code file:} or {@code jar:}
 * scheme it names a properties file declaring caches (see {@code docs/jcache.md}); declared caches
 * are created on first use ({@link #getCache}, {@link #getCacheNames}) or, merged with the
 * requested configuration, by {@link #createCache}. {@code cache.*} entries in the properties
 * passed to the provider are read the same way.
 *
 * <p>Default settings for every cache of the manager, such as the backend of caches created from a
 * plain {@link javax.cache.configuration.MutableConfiguration}, come from
 * {@code cachet.jcache.default.*} entries in the JVM's system properties or the manager's
 * properties (which win): {@code cachet.jcache.default.backend=redis},
 * {@code cachet.jcache.default.redis.address=10.0.0.5:6379},
 * {@code cachet.jcache.default.redis.keyPrefix=jcache:{cache}:} ({@code {cache}} is replaced by the
 * cache's name). They fill in only what a cache's configuration and declaration leave unset.
 *
 * <p>{@link #unwrap} offers this class and the underlying {@link io.cachet.CacheManager}.
 *
 * <p>Design notes. The manager refers to its class loader only weakly (the provider keys its
 * managers by class loader in a weak map, so a strong reference from a manager would keep every
 * class loader alive), and so does everything it creates: store-by-value copies and the
 * {@code java} codec resolve classes through {@link #serializationCodec()}.
 *
 * <p>Threads. The manager's pool, at most {@link #MAX_THREADS} daemon threads (idle ones end after
 * a minute; tasks beyond the bound wait in its queue), delivers asynchronous events and runs
 * {@code loadAll} unless a cache's configuration names an executor, and always handles the backing
 * caches' removal notices. The backing caches themselves get a same-thread executor, since the
 * JCache layer hands every notice it cares about to the pool at once. Each cache's notices run one
 * at a time, in order, on a {@link SerialExecutor} over the pool: a notice waits for its key's lock,
 * and however many wait, a cache's notices hold one thread. {@code loadAll} tasks wait for their
 * keys' locks too, each on a thread of its own.
 *
 * <p>Why a bounded pool cannot deadlock: a task that waits for a key lock waits for the thread
 * holding it, and no thread holding a key lock ever waits for a pool task. Under a key lock run
 * only the backend's calls, copies, the application's loader, writer, expiry policy and entry
 * processor, and handing tasks over, which never blocks ({@link SerialExecutor#execute}, and the
 * pool's {@code execute}: its queue is unbounded); events are only enqueued there (see
 * {@link EventDispatcher}). What waits for another thread, with no key lock held, waits for one
 * that is running, never for a queued task: a synchronous listener's caller waits for the thread
 * delivering to that listener (or delivers itself), closing a cache waits for listener calls in
 * progress (for a bounded time), a close or destroy of a cache another thread is shutting down
 * waits for that thread, which takes no key lock (and is not waited for by a thread holding the
 * manager's lock or that cache's configuration lock, which it needs), and the pool's own tasks
 * ({@code loadAll}, notices, asynchronous deliveries) never wait for a delivery (a busy
 * synchronous listener is left to the thread delivering to it). So every key lock is released
 * without a queued task having to run first, every task waiting for one gets it, and the queue
 * drains. (The application's own code can still starve the pool: a loader, writer or entry
 * processor, which runs under a key lock, or a listener on the pool, that blocks until a
 * {@code loadAll} or an asynchronous delivery of this manager completes. docs/jcache.md says so.)
 */
public final class CachetCacheManager implements CacheManager {

  private static final Logger log = LoggerFactory.getLogger(CachetCacheManager.class);
  private static final AtomicInteger THREAD_NUMBERS = new AtomicInteger();

  /**
   * The most threads a manager runs: {@value}. Its tasks wait for key locks and for loaders, not
   * for the CPU, so the bound does not follow the number of cores; it only keeps what callers do
   * ({@code loadAll} calls, large batches evicting entries) from choosing the number of threads.
   */
  static final int MAX_THREADS = 16;

  private final CachingProvider provider;
  private final URI uri;
  private final WeakReference<ClassLoader> classLoader;
  private final BackingConfigs backing;
  private final Properties properties;
  private final io.cachet.CacheManager cachet;
  private final ThreadPoolExecutor executor;
  private final Map<String, CacheBackendProvider> backends;
  private final ConcurrentHashMap<String, CachetCache<?, ?>> caches = new ConcurrentHashMap<>();
  /**
   * Caches closed or destroyed and not yet shut down (a destroy clears the backend, which can take a
   * while), by name: creating a cache of that name waits for it, since its backing cache holds the
   * name until then, and so does any other call closing or destroying it. Guarded by {@code caches}.
   */
  private final Map<String, Closing> closing = new HashMap<>();

  /**
   * A cache shutting down, created by the thread that shuts it down: the one that took it from
   * {@code caches}, and the only one that does.
   */
  private static final class Closing {
    final CachetCache<?, ?> cache;
    final Thread thread = Thread.currentThread();
    /** Completed once the cache is shut down, whether or not that failed. */
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /** Whether to clear the backend: set by the owner's destroy, or by a destroy joining it. */
    volatile boolean destroy;

    Closing(CachetCache<?, ?> cache, boolean destroy) {
      this.cache = cache;
      this.destroy = destroy;
    }
  }

  /** The caches the file and properties declare; {@link #createCache} merges them, always. */
  private final Map<String, CachetConfiguration<Object, Object>> declarations;
  /** The declared caches not created yet, which first use creates; guarded by caches. */
  private final Map<String, CachetConfiguration<Object, Object>> declared;
  private final CacheDefaults defaults;
  private volatile boolean closed;

  /**
   * Creates the manager for {@code uri} and {@code classLoader}; called by the caching provider.
   *
   * <p>Applications get managers from {@link CachingProvider#getCacheManager}, which keeps one per
   * URI and class loader; a manager made with this constructor is not known to the provider. (It is
   * public only because the provider lives in another package.)
   *
   * @throws CacheException if the URI names a configuration file that cannot be read, or the file
   *     or {@code properties} declare an unknown or invalid option (the message names it)
   */
  public CachetCacheManager(
      CachingProvider provider, URI uri, ClassLoader classLoader, Properties properties) {
    this.provider = requireNonNull(provider, "provider");
    this.uri = requireNonNull(uri, "uri");
    this.classLoader = new WeakReference<>(requireNonNull(classLoader, "classLoader"));
    this.backing = new BackingConfigs(this::getClassLoader);
    this.properties = new Properties();
    this.properties.putAll(requireNonNull(properties, "properties"));
    this.backends = backends(classLoader);
    Map<String, CachetConfiguration<Object, Object>> declarations = new LinkedHashMap<>();
    if (CacheDeclarations.namesFile(uri)) {
      declarations.putAll(
          CacheDeclarations.parse(
              CacheDeclarations.read(uri, classLoader), uri.toString(), classLoader, backends));
    }
    declarations.putAll(
        CacheDeclarations.parse(this.properties, "the cache manager's properties", classLoader, backends));
    this.declarations = Map.copyOf(declarations);
    this.declared = declarations;
    this.defaults = CacheDefaults.read(this.properties, System.getProperties(), backends);
    this.cachet = io.cachet.CacheManager.builder().classLoader(classLoader).build();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            MAX_THREADS, MAX_THREADS, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), daemonThreads());
    pool.allowCoreThreadTimeOut(true);
    this.executor = pool;
  }

  private static Map<String, CacheBackendProvider> backends(ClassLoader classLoader) {
    Map<String, CacheBackendProvider> found = new LinkedHashMap<>();
    try {
      for (CacheBackendProvider backend : ServiceLoader.load(CacheBackendProvider.class, classLoader)) {
        found.putIfAbsent(backend.name(), backend);
      }
    } catch (ServiceConfigurationError e) {
      throw new CacheException("cannot load Cachet backends: " + e.getMessage(), e);
    }
    return found;
  }

  private static ThreadFactory daemonThreads() {
    return runnable -> {
      Thread thread = new Thread(runnable, "cachet-jcache-" + THREAD_NUMBERS.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  @Override
  public CachingProvider getCachingProvider() {
    return provider;
  }

  @Override
  public URI getURI() {
    return uri;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The manager holds its class loader weakly; once nothing else refers to it and it was
   * garbage collected, this returns the class loader of Cachet's JCache provider instead.
   */
  @Override
  public ClassLoader getClassLoader() {
    ClassLoader loader = classLoader.get();
    return loader != null ? loader : CachetCacheManager.class.getClassLoader();
  }

  /**
   * Returns the Java serialization codec of this manager's caches: classes resolve with
   * {@link #getClassLoader()}, read at each use, so the codec does not keep the class loader alive.
   */
  Codec<Serializable> serializationCodec() {
    return backing.serializationCodec();
  }

  @Override
  public Properties getProperties() {
    return properties;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Any {@link Configuration} is accepted; a {@link CachetConfiguration} also chooses the
   * backend and its options. When the manager's configuration file declares a cache of this name,
   * its Cachet options fill in what {@code configuration} leaves unset.
   */
  @Override
  public <K, V, C extends Configuration<K, V>> Cache<K, V> createCache(String cacheName, C configuration) {
    checkOpen();
    requireNonNull(cacheName, "cacheName");
    requireNonNull(configuration, "configuration");
    CachetConfiguration<K, V> requested = CachetConfiguration.copyOf(configuration);
    boolean underManagerLock = Thread.holdsLock(caches);
    while (true) {
      Closing shutDown;
      synchronized (caches) {
        checkOpen();
        if (caches.containsKey(cacheName)) {
          throw new CacheException("a cache named '" + cacheName + "' already exists in " + uri);
        }
        shutDown = closing.get(cacheName);
        if (shutDown != null && !mayWaitFor(shutDown, underManagerLock)) {
          // Called from a loader, writer or listener a shutdown on this thread is closing: waiting
          // would never end if the shutdown is this one, or if its thread waits for this one.
          throw new CacheException("cache '" + cacheName + "' in " + uri
              + " is still closing, and this thread holds what its shutdown needs (it is shutting a cache"
              + " down, runs a factory under the manager's or that cache's lock, or is in a call of its listener)");
        }
        if (shutDown == null) {
          // Also after a close or destroy: the file still declares the cache.
          CachetConfiguration<Object, Object> declaration = declarations.get(cacheName);
          boolean cachet = configuration instanceof CachetConfiguration;
          CachetConfiguration<K, V> merged = CacheDeclarations.merge(requested, cachet, declaration);
          boolean backendChosen =
              (cachet && requested.isBackendChosen()) || (declaration != null && declaration.isBackendChosen());
          return build(cacheName, merged, backendChosen);
        }
      }
      shutDown.done.join(); // a cache of this name is still shutting down; never fails (see shutDown)
    }
  }

  /**
   * Creates and registers a cache, with the {@linkplain CacheDefaults default settings} filling in
   * what {@code requested} leaves unset, and forgets its declaration if there was one; the caller
   * holds the {@code caches} lock. A failure leaves the declaration, for the next attempt.
   */
  private <K, V> CachetCache<K, V> build(
      String cacheName, CachetConfiguration<K, V> requested, boolean backendChosen) {
    CachetConfiguration<K, V> config = defaults.apply(cacheName, requested, backendChosen);
    InstantSource clock = config.getClock().orElse(InstantSource.system());
    Executor events = config.getExecutor().orElse(executor);
    CachetCache<K, V> cache;
    try {
      cache =
          new CachetCache<>(
              cacheName, this, config, clock, events,
              new SerialExecutor("the removal notices of cache '" + cacheName + "'", executor),
              listener -> cachet.create(backing.config(cacheName, config, clock, listener)));
    } catch (CacheException | ClassCastException | NullPointerException e) {
      throw e;
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new CacheException("cannot create cache '" + cacheName + "' in " + uri + ": " + e.getMessage(), e);
    }
    caches.put(cacheName, cache);
    declared.remove(cacheName);
    return cache;
  }

  @Override
  public <K, V> @Nullable Cache<K, V> getCache(String cacheName, Class<K> keyType, Class<V> valueType) {
    checkOpen();
    requireNonNull(cacheName, "cacheName");
    requireNonNull(keyType, "keyType");
    requireNonNull(valueType, "valueType");
    CachetCache<?, ?> cache = lookup(cacheName);
    if (cache == null) {
      return null;
    }
    if (!cache.hasTypes(keyType, valueType)) {
      throw new ClassCastException(
          "cache '" + cacheName + "' was configured with types " + cache.types() + ", not <"
              + keyType.getName() + ", " + valueType.getName() + ">");
    }
    @SuppressWarnings("unchecked")
    Cache<K, V> typed = (Cache<K, V>) cache;
    return typed;
  }

  @Override
  public <K, V> @Nullable Cache<K, V> getCache(String cacheName) {
    checkOpen();
    requireNonNull(cacheName, "cacheName");
    @SuppressWarnings("unchecked")
    Cache<K, V> cache = (Cache<K, V>) lookup(cacheName);
    return cache;
  }

  private @Nullable CachetCache<?, ?> lookup(String cacheName) {
    CachetCache<?, ?> cache = caches.get(cacheName);
    if (cache != null) {
      return cache;
    }
    synchronized (caches) {
      checkOpen();
      cache = caches.get(cacheName);
      if (cache == null) {
        CachetConfiguration<Object, Object> declaration = declared.get(cacheName);
        if (declaration != null) {
          cache = build(cacheName, declaration, declaration.isBackendChosen());
        }
      }
      return cache;
    }
  }

  /** Returns the names of the caches, creating the declared ones not created yet; a snapshot. */
  @Override
  public Iterable<String> getCacheNames() {
    checkOpen();
    synchronized (caches) {
      for (Map.Entry<String, CachetConfiguration<Object, Object>> declaration :
          List.copyOf(declared.entrySet())) {
        build(declaration.getKey(), declaration.getValue(), declaration.getValue().isBackendChosen());
      }
      return Collections.unmodifiableSet(new LinkedHashSet<>(caches.keySet()));
    }
  }

  @Override
  public void destroyCache(String cacheName) {
    checkOpen();
    requireNonNull(cacheName, "cacheName");
    CachetCache<?, ?> cache;
    Closing awaited = null;
    boolean underManagerLock = Thread.holdsLock(caches);
    synchronized (caches) {
      declared.remove(cacheName);
      cache = caches.get(cacheName);
      Closing owner = cache == null ? closing.get(cacheName) : null;
      if (owner != null) {
        // A close that took the cache already: it clears the backend too (unless it has begun
        // closing the backing cache, see retire), and this returns once it is done.
        owner.destroy = true;
        if (mayWaitFor(owner, underManagerLock)) {
          awaited = owner;
        }
      }
    }
    if (cache != null) {
      retire(cache, true);
    } else if (awaited != null) {
      awaited.done.join(); // never fails (see shutDown)
    }
  }

  @Override
  public void enableManagement(String cacheName, boolean enabled) {
    checkOpen();
    requireNonNull(cacheName, "cacheName");
    CachetCache<?, ?> cache = lookup(cacheName);
    if (cache != null) {
      cache.enableManagement(enabled);
    }
  }

  @Override
  public void enableStatistics(String cacheName, boolean enabled) {
    checkOpen();
    requireNonNull(cacheName, "cacheName");
    CachetCache<?, ?> cache = lookup(cacheName);
    if (cache != null) {
      cache.enableStatistics(enabled);
    }
  }

  /**
   * Forgets {@code cache} and shuts it down (clearing its backend when {@code destroy}); a cache of
   * its name created meanwhile waits until it has. Returns once the cache is shut down.
   *
   * <p>Only the caller that takes the cache from the manager shuts it down; any other call for the
   * same cache (its own {@code close()}, {@link #destroyCache}, or this manager's {@link #close()}
   * racing them) waits for that one, so that none returns before the cache's backing cache, loader,
   * writer and listeners are closed. A destroy joining a close in progress has it clear the backend
   * too, unless the close has already begun closing the backing cache: the destroy then comes after
   * the close, as a destroy of a name no longer managed, which is a no-op. A call made on a thread
   * that holds what the shutdown needs returns at once instead of waiting ({@link #mayWaitFor}): one
   * shutting a cache down itself (a listener, loader or writer being closed), one running a
   * factory under the manager's lock or under that cache's configuration lock, or a call of that
   * cache's listener.
   */
  void retire(CachetCache<?, ?> cache, boolean destroy) {
    String name = cache.getName();
    Closing mine = null;
    Closing awaited = null;
    boolean underManagerLock = Thread.holdsLock(caches);
    synchronized (caches) {
      if (caches.remove(name, cache)) {
        cache.markClosed(); // closed to operations from now, whoever else returns before the shutdown ends
        mine = new Closing(cache, destroy);
        closing.put(name, mine);
      } else {
        Closing owner = closing.get(name);
        if (owner != null && owner.cache == cache) { // else shut down already
          if (destroy) {
            owner.destroy = true;
          }
          if (mayWaitFor(owner, underManagerLock)) {
            awaited = owner;
          }
        }
      }
    }
    if (mine != null) {
      shutDown(mine);
    } else if (awaited != null) {
      awaited.done.join(); // never fails (see shutDown)
    }
  }

  /**
   * Whether the current thread may wait for the shutdown {@code owner} runs on another thread: not
   * if it holds what that shutdown needs, which a loader, writer, expiry or listener factory or
   * close may call the manager with. That is the manager's lock ({@code underManagerLock}, taken
   * before the caller's own {@code synchronized}: factories run under it, and a shutdown takes it
   * last), the cache's configuration lock (listener factories run under it, and a shutdown takes it
   * first), a shutdown of its own (whose owner may wait for this one), or a call of the listener of
   * a cache the owner's thread shuts down (it waits for the calls in progress before it closes the
   * listeners). Such a call returns at once instead, its destroy, if any, still noted, the cache
   * already closed to operations ({@link CachetCache#markClosed}). The caller holds the
   * {@code caches} lock.
   */
  private boolean mayWaitFor(Closing owner, boolean underManagerLock) {
    return !underManagerLock && !owner.cache.configuringOnThisThread() && !shuttingDownOnThisThread()
        && !deliveringForACacheOf(owner.thread);
  }

  /**
   * Whether the current thread is in a listener call of a cache that {@code thread} shuts down, now
   * or later in the same {@link #close()}; the caller holds the {@code caches} lock.
   */
  private boolean deliveringForACacheOf(Thread thread) {
    for (Closing any : closing.values()) {
      if (any.thread == thread && any.cache.deliveringOnThisThread()) {
        return true;
      }
    }
    return false;
  }

  /** Whether the current thread is shutting a cache down; the caller holds the {@code caches} lock. */
  private boolean shuttingDownOnThisThread() {
    for (Closing any : closing.values()) {
      if (any.thread == Thread.currentThread()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Shuts down the cache of {@code owned}, which the current thread took from {@code caches}, then
   * forgets it and completes its future, also when the shutdown failed.
   */
  private void shutDown(Closing owned) {
    try {
      // Read once the cache is closed to new configuration changes, as late as can be: a destroy
      // that joined meanwhile still clears the backend.
      owned.cache.shutdown(() -> owned.destroy);
    } finally {
      synchronized (caches) {
        closing.remove(owned.cache.getName(), owned);
      }
      owned.done.complete(null);
    }
  }

  /**
   * Closes every cache, the underlying Cachet manager and the event threads, and has the caching
   * provider forget this manager. Idempotent.
   */
  @Override
  public void close() {
    List<Closing> mine = new ArrayList<>();
    List<CompletableFuture<Void>> stillClosing = new ArrayList<>();
    boolean underManagerLock = Thread.holdsLock(caches);
    synchronized (caches) {
      if (closed) {
        return;
      }
      closed = true;
      for (Closing other : closing.values()) {
        if (other.thread != Thread.currentThread() && mayWaitFor(other, underManagerLock)) {
          stillClosing.add(other.done);
        }
      }
      // This thread shuts these caches down: a close or destroy of one of them racing this waits.
      for (CachetCache<?, ?> cache : caches.values()) {
        cache.markClosed();
        Closing owned = new Closing(cache, false);
        closing.put(cache.getName(), owned);
        mine.add(owned);
      }
      caches.clear();
      declared.clear();
    }
    Error firstError = null;
    for (Closing owned : mine) {
      try {
        shutDown(owned);
      } catch (RuntimeException e) {
        log.warn("Closing cache '{}' failed", owned.cache.getName(), e);
      } catch (Error e) {
        // Every other cache is still shut down (a close of one of them waits for it), then this
        // is thrown: an AssertionError of a listener's close in a test, say.
        log.warn("Closing cache '{}' failed", owned.cache.getName(), e);
        if (firstError == null) {
          firstError = e;
        }
      }
    }
    // Caches closed or destroyed on other threads finish first (a destroy clearing its backend),
    // before the Cachet manager closes their backing caches under them.
    stillClosing.forEach(CompletableFuture::join);
    try {
      cachet.close();
    } catch (RuntimeException e) {
      log.warn("Closing the Cachet cache manager of {} failed", uri, e);
    } finally {
      executor.shutdown();
      if (provider instanceof CachetCachingProvider cachingProvider) {
        cachingProvider.forget(this);
      }
    }
    if (firstError != null) {
      throw firstError;
    }
  }

  /** Returns the number of threads of the manager's pool; for tests. */
  int poolThreads() {
    return executor.getPoolSize();
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    if (type.isInstance(cachet)) {
      return type.cast(cachet);
    }
    throw new IllegalArgumentException("a CachetCacheManager cannot be unwrapped to " + type.getName());
  }

  @Override
  public String toString() {
    return "CachetCacheManager{uri=" + uri + ", classLoader=" + classLoader.get() + "}";
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the cache manager " + uri + " is closed");
    }
  }
}
