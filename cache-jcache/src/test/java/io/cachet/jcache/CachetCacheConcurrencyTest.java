package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import io.cachet.jcache.CachetCacheTest.RecordingListener;
import io.cachet.jcache.CachetCacheTest.SimpleLoader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.Factory;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheWriter;
import javax.cache.integration.CompletionListenerFuture;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Deadlocks and races: re-entrant listeners, small and same-thread executors, backend evictions
 * racing writes, multi-key operations racing single-key ones. Deadlock tests run under a generous
 * deadline; waits use latches, thread states and Awaitility, never sleeps.
 */
final class CachetCacheConcurrencyTest {

  private static final Duration DEADLINE = Duration.ofSeconds(20);

  private final FakeTicker ticker = new FakeTicker();
  private final List<ExecutorService> pools = new ArrayList<>();
  private CacheManager manager;

  /** The executors a cache may deliver its events on. */
  enum EventExecutor {
    MANAGER_THREADS,
    SAME_THREAD,
    SINGLE_THREAD
  }

  @BeforeEach
  void openManager() {
    manager =
        Caching.getCachingProvider()
            .getCacheManager(URI.create("urn:cachet:test:CachetCacheConcurrencyTest"), getClass().getClassLoader());
  }

  @AfterEach
  void closeManager() {
    manager.close();
    pools.forEach(ExecutorService::shutdownNow);
  }

  private ExecutorService pool(int threads) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    pools.add(pool);
    return pool;
  }

  private <K, V> CachetConfiguration<K, V> config(Class<K> keyType, Class<V> valueType, EventExecutor executor) {
    CachetConfiguration<K, V> config = new CachetConfiguration<K, V>().setTypes(keyType, valueType).setClock(ticker);
    return switch (executor) {
      case MANAGER_THREADS -> config;
      case SAME_THREAD -> config.setExecutor(Runnable::run);
      case SINGLE_THREAD -> config.setExecutor(pool(1));
    };
  }

  private static <L> MutableCacheEntryListenerConfiguration<String, String> synchronous(L listener) {
    Factory<L> factory = () -> listener;
    @SuppressWarnings({"unchecked", "rawtypes"})
    MutableCacheEntryListenerConfiguration<String, String> configuration =
        new MutableCacheEntryListenerConfiguration(factory, null, true, true);
    return configuration;
  }

  // ---------------------------------------------------------------- re-entrant listeners (#1)

  /** Copies each created entry whose key starts with {@code from} to the key with {@code to} instead. */
  static final class CopyingListener implements CacheEntryCreatedListener<String, String> {
    final String from;
    final String to;
    final AtomicReference<Cache<String, String>> cache = new AtomicReference<>();
    final List<String> seen = new CopyOnWriteArrayList<>();

    CopyingListener(String from, String to) {
      this.from = from;
      this.to = to;
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        seen.add(event.getKey());
        if (event.getKey().startsWith(from)) {
          cache.get().put(to + event.getKey().substring(from.length()), event.getValue());
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(EventExecutor.class)
  void syncListenerWritingToTheCache_doesNotDeadlock(EventExecutor executor) {
    CopyingListener listener = new CopyingListener("k", "audit-k");
    Cache<String, String> cache =
        manager.createCache(
            "c", config(String.class, String.class, executor).addCacheEntryListenerConfiguration(synchronous(listener)));
    listener.cache.set(cache);

    assertTimeoutPreemptively(DEADLINE, () -> cache.put("k", "v"));

    assertThat(cache.get("audit-k")).isEqualTo("v");
    // The listener's own write is delivered to it right after the call that caused it returns.
    assertThat(listener.seen).containsExactly("k", "audit-k");
  }

  @ParameterizedTest
  @EnumSource(EventExecutor.class)
  void syncListenersWritingToTheCache_underConcurrentWrites_doNotDeadlock(EventExecutor executor) throws Exception {
    // a* creates b*, b* creates c*: each listener's writes fire the other's events, on every thread.
    CopyingListener first = new CopyingListener("a", "b");
    CopyingListener second = new CopyingListener("b", "c");
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class, executor)
                .addCacheEntryListenerConfiguration(synchronous(first))
                .addCacheEntryListenerConfiguration(synchronous(second)));
    first.cache.set(cache);
    second.cache.set(cache);
    ExecutorService writers = pool(4);

    assertTimeoutPreemptively(DEADLINE, () -> {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        String prefix = t % 2 == 0 ? "a" : "b";
        int thread = t;
        done.add(writers.submit(() -> {
          for (int i = 0; i < 200; i++) {
            cache.put(prefix + thread + "-" + i, "v" + i);
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    });

    for (int t = 0; t < 4; t++) {
      for (int i = 0; i < 200; i++) {
        assertThat(cache.get("c" + t + "-" + i)).isEqualTo("v" + i);
      }
    }
    // Every creation reached both listeners: 400 a*, 400 + 400 b*, 800 c*.
    await().atMost(DEADLINE).untilAsserted(() -> {
      assertThat(first.seen).hasSize(2_000).doesNotHaveDuplicates();
      assertThat(second.seen).hasSize(2_000).doesNotHaveDuplicates();
    });
  }

  @ParameterizedTest
  @EnumSource(value = EventExecutor.class, names = {"SAME_THREAD", "MANAGER_THREADS"})
  void listeners_neverRunUnderAKeyLock(EventExecutor executor) {
    List<Integer> locksHeld = new CopyOnWriteArrayList<>();
    AtomicReference<CachetCache<?, ?>> cache = new AtomicReference<>();
    CacheEntryCreatedListener<String, String> probe = events -> locksHeld.add(cache.get().locksInUse());
    @SuppressWarnings({"unchecked", "rawtypes"})
    MutableCacheEntryListenerConfiguration<String, String> asynchronous =
        new MutableCacheEntryListenerConfiguration(
            (Factory<CacheEntryCreatedListener<String, String>>) () -> probe, null, false, false);
    Cache<String, String> created =
        manager.createCache(
            "c",
            config(String.class, String.class, executor)
                .addCacheEntryListenerConfiguration(synchronous(probe))
                .addCacheEntryListenerConfiguration(asynchronous));
    cache.set(created.unwrap(CachetCache.class));

    created.put("k", "v");

    await().atMost(DEADLINE).until(() -> locksHeld.size() == 2);
    assertThat(locksHeld).containsOnly(0);
  }

  // ---------------------------------------------------------------- small executors (#2)

  @Test
  void backendExpiry_withSingleThreadEventExecutorAndSyncListener_doesNotHangTheExecutor() {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class, EventExecutor.SINGLE_THREAD)
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(new SimpleLoader(key -> "loaded " + key)))
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("forgotten", "v");

    ticker.advance(Duration.ofMinutes(1).plus(CachetCache.BACKEND_GRACE).plusSeconds(1));
    cache.put("other", "w"); // the backend does its maintenance, dropping "forgotten"

    await().atMost(DEADLINE).untilAsserted(() ->
        assertThat(listener.events).extracting(e -> e.type() + ":" + e.key()).contains("EXPIRED:forgotten"));
    // The executor's only thread is free: loadAll, which runs on it, completes.
    CompletionListenerFuture loaded = new CompletionListenerFuture();
    cache.loadAll(Set.of("x"), false, loaded);
    assertTimeoutPreemptively(DEADLINE, () -> loaded.get());
    assertThat(cache.get("x")).isEqualTo("loaded x");
  }

  @Test
  void loadAll_withSingleThreadEventExecutorAndSyncListener_completes() {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class, EventExecutor.SINGLE_THREAD)
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(new SimpleLoader(key -> "loaded " + key)))
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("k", "v");
    ticker.advance(Duration.ofMinutes(2)); // "k" expired: loadAll reports that first

    CompletionListenerFuture loaded = new CompletionListenerFuture();
    cache.loadAll(Set.of("k"), false, loaded);

    assertTimeoutPreemptively(DEADLINE, () -> loaded.get());
    assertThat(listener.events)
        .extracting(e -> e.type() + ":" + e.value())
        .containsExactly("CREATED:v", "EXPIRED:v", "CREATED:loaded k");
  }

  // ---------------------------------------------------------------- evictions racing writes (#3)

  @ParameterizedTest
  @EnumSource(value = EvictionPolicy.class)
  void evictionsBetweenConcurrentWriters_withSameThreadExecutor_doNotDeadlock(EvictionPolicy policy) {
    Cache<String, Integer> cache =
        manager.createCache(
            "c",
            config(String.class, Integer.class, EventExecutor.SAME_THREAD)
                .setOption("maximumSize", "1")
                .setOption("evictionPolicy", policy.name()));
    ExecutorService writers = pool(2);

    // Each put evicts the other thread's key while the other thread may hold that key's lock.
    assertTimeoutPreemptively(DEADLINE, () -> {
      Future<?> a = writers.submit(() -> {
        for (int i = 0; i < 5_000; i++) {
          cache.put("A", i);
        }
      });
      Future<?> b = writers.submit(() -> {
        for (int i = 0; i < 5_000; i++) {
          cache.put("B", i);
        }
      });
      a.get();
      b.get();
    });

    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);
    @SuppressWarnings("unchecked")
    io.cachet.Cache<Object, ?> store = cache.unwrap(io.cachet.Cache.class);
    await().atMost(DEADLINE).untilAsserted(() -> {
      assertThat(cachet.locksInUse()).isZero();
      assertThat(cachet.indexedKeys()).isEqualTo(present(store, List.of("A", "B")));
    });
  }

  // ---------------------------------------------------------------- multi-key operations

  /** Records what was written last for each key; {@code writeAll} returns only when released. */
  static final class BlockingWriter implements CacheWriter<String, String> {
    final CountDownLatch inWriteAll = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final Map<String, String> lastWritten = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {
      lastWritten.put(entry.getKey(), entry.getValue());
    }

    @Override
    public void writeAll(Collection<Cache.Entry<? extends String, ? extends String>> entries) {
      entries.forEach(this::write); // the external store has them now
      inWriteAll.countDown();
      CachetCacheTest.awaitLatch(release); // but the call is slow to return
      entries.clear();
    }

    @Override
    public void delete(Object key) {}

    @Override
    public void deleteAll(Collection<?> keys) {
      keys.clear();
    }
  }

  @Test
  void putAll_racingPutOfTheSameKey_leavesTheCacheAndTheWriterAgreeing() throws Exception {
    BlockingWriter writer = new BlockingWriter();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class, EventExecutor.SAME_THREAD)
                .setWriteThrough(true)
                .setCacheWriterFactory(() -> writer));
    ExecutorService threads = pool(2);

    Future<?> batch = threads.submit(() -> cache.putAll(Map.of("k", "from putAll")));
    assertThat(writer.inWriteAll.await(20, TimeUnit.SECONDS)).isTrue();
    AtomicReference<Thread> single = new AtomicReference<>();
    Future<?> put = threads.submit(() -> {
      single.set(Thread.currentThread());
      cache.put("k", "from put");
    });
    // The put waits for the key's lock, which putAll holds while its writer runs.
    await().atMost(DEADLINE).until(() -> put.isDone() || waiting(single.get()));
    writer.release.countDown();
    batch.get(20, TimeUnit.SECONDS);
    put.get(20, TimeUnit.SECONDS);

    assertThat(cache.get("k")).isEqualTo(writer.lastWritten.get("k"));
  }

  @Test
  void getAll_concurrentMissesOnOneKey_loadOnce() throws Exception {
    AtomicInteger loads = new AtomicInteger();
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CacheLoader<String, String> loader = new CacheLoader<>() {
      @Override
      public String load(String key) {
        return loadAll(List.of(key)).get(key);
      }

      @Override
      public Map<String, String> loadAll(Iterable<? extends String> keys) {
        loads.incrementAndGet();
        loading.countDown();
        CachetCacheTest.awaitLatch(release);
        Map<String, String> loaded = new java.util.HashMap<>();
        keys.forEach(k -> loaded.put(k, "loaded " + k));
        return loaded;
      }
    };
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class, EventExecutor.SAME_THREAD)
                .setReadThrough(true)
                .setCacheLoaderFactory(() -> loader));
    ExecutorService threads = pool(2);

    Future<Map<String, String>> first = threads.submit(() -> cache.getAll(Set.of("k", "j")));
    assertThat(loading.await(20, TimeUnit.SECONDS)).isTrue();
    AtomicReference<Thread> second = new AtomicReference<>();
    Future<Map<String, String>> other = threads.submit(() -> {
      second.set(Thread.currentThread());
      return cache.getAll(Set.of("k"));
    });
    await().atMost(DEADLINE).until(() -> other.isDone() || waiting(second.get()));
    release.countDown();

    assertThat(first.get(20, TimeUnit.SECONDS)).containsOnly(Map.entry("k", "loaded k"), Map.entry("j", "loaded j"));
    assertThat(other.get(20, TimeUnit.SECONDS)).containsOnly(Map.entry("k", "loaded k"));
    assertThat(loads).hasValue(1);
  }

  // ---------------------------------------------------------------- the manager's threads

  @Test
  void loadAll_manyCallsWaitingForAKeyLock_useNoMoreThanTheManagersThreads() throws Exception {
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CacheLoader<String, String> loader = new CacheLoader<>() {
      @Override
      public String load(String key) {
        return "loaded " + key;
      }

      @Override
      public Map<String, String> loadAll(Iterable<? extends String> keys) {
        loading.countDown();
        CachetCacheTest.awaitLatch(release);
        Map<String, String> loaded = new java.util.HashMap<>();
        keys.forEach(k -> loaded.put(k, load(k)));
        return loaded;
      }
    };
    Cache<String, String> cache =
        manager.createCache(
            "c", config(String.class, String.class, EventExecutor.MANAGER_THREADS).setCacheLoaderFactory(() -> loader));
    CachetCacheManager cachet = manager.unwrap(CachetCacheManager.class);
    List<CompletionListenerFuture> calls = new ArrayList<>();

    // The first call loads (and waits), holding the key's lock; the others wait for that lock.
    for (int i = 0; i < 200; i++) {
      CompletionListenerFuture call = new CompletionListenerFuture();
      cache.loadAll(Set.of("hot"), false, call);
      calls.add(call);
    }
    assertThat(loading.await(20, TimeUnit.SECONDS)).isTrue();

    assertThat(cachet.poolThreads()).isBetween(1, CachetCacheManager.MAX_THREADS);
    release.countDown();
    for (CompletionListenerFuture call : calls) {
      call.get(20, TimeUnit.SECONDS); // the calls queued behind the bound run too
    }
    assertThat(cache.get("hot")).isEqualTo("loaded hot");
  }

  @Test
  void backendEvictionsWaitingForKeyLocks_holdOneManagerThreadPerCache() throws Exception {
    int size = 40;
    BlockingWriter writer = new BlockingWriter();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class, EventExecutor.SAME_THREAD)
                .setOption("maximumSize", Integer.toString(size))
                .setOption("evictionPolicy", "LRU")
                .setWriteThrough(true)
                .setCacheWriterFactory(() -> writer));
    CachetCacheManager cachet = manager.unwrap(CachetCacheManager.class);
    Map<String, String> old = new java.util.HashMap<>();
    for (int i = 0; i < size; i++) {
      cache.put("old" + i, "v");
      old.put("old" + i, "again");
    }
    Future<?> batch = pool(1).submit(() -> cache.putAll(old)); // holds the old keys' locks...
    assertThat(writer.inWriteAll.await(20, TimeUnit.SECONDS)).isTrue(); // ...while its writer runs

    // Each put evicts an old key; the notice of that eviction waits for the key's lock.
    for (int i = 0; i < size; i++) {
      cache.put("new" + i, "v");
    }

    assertThat(cachet.poolThreads()).as("threads handling the notices").isEqualTo(1);
    writer.release.countDown();
    batch.get(20, TimeUnit.SECONDS);
    CachetCache<?, ?> cachetCache = cache.unwrap(CachetCache.class);
    @SuppressWarnings("unchecked")
    io.cachet.Cache<Object, ?> store = cache.unwrap(io.cachet.Cache.class);
    List<String> universe = new ArrayList<>(old.keySet());
    for (int i = 0; i < size; i++) {
      universe.add("new" + i);
    }
    // Every notice was handled, in the end: the index matches the store.
    await().atMost(DEADLINE).untilAsserted(() -> {
      assertThat(cachetCache.locksInUse()).isZero();
      assertThat(cachetCache.indexedKeys()).isEqualTo(present(store, universe));
    });
  }

  // ---------------------------------------------------------------- MBeans racing close (#8)

  @ParameterizedTest
  @EnumSource(value = Bean.class)
  void enableStatisticsOrManagement_racingClose_neverLeavesAnMBeanBehind(Bean bean) throws Exception {
    Cache<String, String> cache = manager.createCache("race", config(String.class, String.class, EventExecutor.SAME_THREAD));
    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);
    Throwable failure = whileClosing(cache, () -> {
      if (bean == Bean.STATISTICS) {
        cachet.enableStatistics(true);
      } else {
        cachet.enableManagement(true);
      }
    });
    assertThat(failure).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(registered("race")).isEmpty();
  }

  /**
   * A listener registered while the cache shuts down: either the shutdown closes it with the
   * others, or the registration fails and creates nothing; never a listener left open.
   */
  @Test
  void registerListener_racingClose_neverLeavesAListenerOpen() throws Exception {
    Cache<String, String> cache = manager.createCache("race-listener", config(String.class, String.class, EventExecutor.SAME_THREAD));
    AtomicInteger created = new AtomicInteger();
    AtomicInteger closedListeners = new AtomicInteger();
    Factory<CacheEntryCreatedListener<String, String>> factory = () -> {
      created.incrementAndGet();
      return new ClosingListener(closedListeners);
    };
    @SuppressWarnings({"unchecked", "rawtypes"})
    MutableCacheEntryListenerConfiguration<String, String> listener =
        new MutableCacheEntryListenerConfiguration(factory, null, false, true);
    assertThat(whileClosing(cache, () -> cache.registerCacheEntryListener(listener)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(closedListeners).as("every listener created is closed").hasValue(created.get());
  }

  /**
   * A synchronous listener closes its own cache while another thread closes the manager, which has
   * taken the cache and waits for the listener's call to end before closing the listener: the
   * listener's close() must not wait for that shutdown in turn (both threads stalled until the
   * shutdown's 5 s wait for the call ran out, and the listener was closed during its call).
   */
  @Test
  void listenerClosingItsCache_whileTheManagerClosesIt_doesNotWaitForThatClose() throws Exception {
    List<String> happened = new CopyOnWriteArrayList<>();
    CountDownLatch inCall = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    final class ClosesItsCache implements CacheEntryCreatedListener<String, String>, java.io.Closeable {
      @Override
      public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
        inCall.countDown();
        CachetCacheTest.awaitLatch(release);
        Cache<? extends String, ? extends String> source = events.iterator().next().getSource();
        source.close();
        happened.add(source.isClosed() ? "the call returns, its cache closed" : "the call returns, its cache open");
      }

      @Override
      public void close() {
        happened.add("the listener is closed");
      }
    }
    Cache<String, String> cache = manager.createCache("closes-itself",
        config(String.class, String.class, EventExecutor.SAME_THREAD)
            .addCacheEntryListenerConfiguration(synchronous(new ClosesItsCache())));
    putThenCloseTheManagerDuringTheCall(cache, inCall, release);
    assertThat(happened).containsExactly("the call returns, its cache closed", "the listener is closed");
  }

  /**
   * As above, but the listener closes another cache that the same manager close() has taken: that
   * close() shuts both down, one after the other, and waits for the listener's call before closing
   * the first; so the listener must not wait for it either.
   */
  @Test
  void listenerClosingAnotherCache_thatTheManagersCloseAlsoShutsDown_doesNotWaitForIt() throws Exception {
    List<String> happened = new CopyOnWriteArrayList<>();
    CountDownLatch inCall = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Cache<String, String>> otherCache = new AtomicReference<>();
    final class ClosesTheOther implements CacheEntryCreatedListener<String, String>, java.io.Closeable {
      @Override
      public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
        inCall.countDown();
        CachetCacheTest.awaitLatch(release);
        Cache<String, String> other = otherCache.get();
        other.close();
        happened.add(other.isClosed() ? "the call returns, the other cache closed" : "the call returns, it is open");
      }

      @Override
      public void close() {
        happened.add("the listener is closed");
      }
    }
    // Named to come first in the manager's map: its close() then shuts it down before "other".
    Cache<String, String> cache = manager.createCache("listening",
        config(String.class, String.class, EventExecutor.SAME_THREAD)
            .addCacheEntryListenerConfiguration(synchronous(new ClosesTheOther())));
    otherCache.set(manager.createCache("other", config(String.class, String.class, EventExecutor.SAME_THREAD)));
    putThenCloseTheManagerDuringTheCall(cache, inCall, release);
    assertThat(happened).containsExactly("the call returns, the other cache closed", "the listener is closed");
  }

  /**
   * Puts into {@code cache} on one thread, whose synchronous listener signals {@code inCall} and
   * waits for {@code release}; closes the manager on another once the call is in progress, and
   * releases the call once that close waits for it; returns when both are done.
   */
  private void putThenCloseTheManagerDuringTheCall(Cache<String, String> cache, CountDownLatch inCall,
      CountDownLatch release) throws Exception {
    ExecutorService threads = pool(2);
    Future<?> put = threads.submit(() -> cache.put("k", "v"));
    assertThat(inCall.await(20, TimeUnit.SECONDS)).isTrue();
    AtomicReference<Thread> closer = new AtomicReference<>();
    Future<?> close = threads.submit(() -> {
      closer.set(Thread.currentThread());
      manager.close();
    });
    // The manager's close has taken the cache and waits for the call in progress.
    await().atMost(DEADLINE).until(() -> closer.get() != null && closer.get().getState() == Thread.State.TIMED_WAITING);
    release.countDown();
    put.get(20, TimeUnit.SECONDS);
    close.get(20, TimeUnit.SECONDS);
  }

  /** An asynchronous listener whose calls wait until released; records what happened in order. */
  static final class BlockingListener implements CacheEntryCreatedListener<String, String>, java.io.Closeable {
    final CountDownLatch inCall = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<String> happened = new CopyOnWriteArrayList<>();

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      inCall.countDown();
      CachetCacheTest.awaitLatch(release);
      events.forEach(event -> happened.add(event.getKey()));
    }

    @Override
    public void close() {
      happened.add("close");
    }
  }

  @Test
  void deregisterListener_duringADelivery_closesItOnceAfterTheEventsQueuedBefore() throws Exception {
    BlockingListener listener = new BlockingListener();
    @SuppressWarnings({"unchecked", "rawtypes"})
    MutableCacheEntryListenerConfiguration<String, String> registration =
        new MutableCacheEntryListenerConfiguration(
            (Factory<CacheEntryCreatedListener<String, String>>) () -> listener, null, false, false);
    Cache<String, String> cache =
        manager.createCache(
            "c", config(String.class, String.class, EventExecutor.SINGLE_THREAD).addCacheEntryListenerConfiguration(registration));
    cache.put("a", "v");
    assertThat(listener.inCall.await(20, TimeUnit.SECONDS)).isTrue();
    cache.put("b", "v"); // queued behind "a"

    cache.deregisterCacheEntryListener(registration);
    cache.put("c", "v"); // after the deregistration: not delivered

    assertThat(listener.happened).as("nothing closed during the call").isEmpty();
    listener.release.countDown();
    await().atMost(DEADLINE).until(() -> listener.happened.contains("close"));
    cache.close();
    assertThat(listener.happened).containsExactly("a", "b", "close");
  }

  /**
   * Runs {@code action} on another thread so that it waits for the lock the cache takes for its
   * configuration, MBeans and listeners (CacheControl's configuration, held here), while the cache
   * closes; returns what {@code action} threw, or null.
   */
  private Throwable whileClosing(Cache<String, String> cache, Runnable action) throws Exception {
    java.lang.reflect.Field controlField = CachetCache.class.getDeclaredField("control");
    controlField.setAccessible(true);
    java.lang.reflect.Field field = CacheControl.class.getDeclaredField("configuration");
    field.setAccessible(true);
    Object lock = field.get(controlField.get(cache.unwrap(CachetCache.class)));
    ExecutorService threads = pool(1);
    AtomicReference<Thread> acting = new AtomicReference<>();
    Future<?> done;
    synchronized (lock) {
      done = threads.submit(() -> {
        acting.set(Thread.currentThread());
        action.run();
      });
      // The action passed any open check made outside the lock and waits for it...
      await().atMost(DEADLINE).until(() -> acting.get() != null && acting.get().getState() == Thread.State.BLOCKED);
      cache.close(); // ...while the cache closes (this thread holds the lock already)
    }
    try {
      done.get(20, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
  }

  /** A created-event listener that counts its close. */
  private static final class ClosingListener implements CacheEntryCreatedListener<String, String>, java.io.Closeable {
    private final AtomicInteger closed;

    ClosingListener(AtomicInteger closed) {
      this.closed = closed;
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {}

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  /** The two MXBeans of a cache. */
  enum Bean {
    STATISTICS,
    MANAGEMENT
  }

  private static Set<ObjectName> registered(String cacheName) throws Exception {
    return ManagementFactory.getPlatformMBeanServer()
        .queryNames(new ObjectName("javax.cache:Cache=" + cacheName + ",*"), null);
  }

  // ---------------------------------------------------------------- a mixed workload

  @Test
  void workload_leavesNoLockBehindAndTheIndexMatchingTheStore() throws Exception {
    RecordingListener synchronous = new RecordingListener();
    RecordingListener asynchronous = new RecordingListener();
    Cache<Integer, String> cache =
        manager.createCache(
            "c",
            config(Integer.class, String.class, EventExecutor.MANAGER_THREADS)
                .setOption("maximumSize", "20")
                .setOption("evictionPolicy", "LRU")
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .setReadThrough(true)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(new IntegerLoader()))
                .addCacheEntryListenerConfiguration(synchronous.configuration(true))
                .addCacheEntryListenerConfiguration(asynchronous.configuration(false)));
    ExecutorService threads = pool(4);
    List<Integer> universe = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      universe.add(i);
    }

    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      for (int round = 0; round < 5; round++) {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          long seed = round * 31L + t;
          done.add(threads.submit(() -> randomOperations(cache, new Random(seed), 1_000)));
        }
        for (Future<?> f : done) {
          f.get();
        }
        ticker.advance(Duration.ofSeconds(25)); // some entries expire in the JCache layer
      }
    });

    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);
    @SuppressWarnings("unchecked")
    io.cachet.Cache<Object, ?> store = cache.unwrap(io.cachet.Cache.class);
    await().atMost(DEADLINE).untilAsserted(() -> {
      assertThat(cachet.locksInUse()).isZero();
      assertThat(cachet.indexedKeys()).isEqualTo(present(store, universe));
    });
    assertThat(synchronous.events).isNotEmpty();
  }

  private static void randomOperations(Cache<Integer, String> cache, Random random, int count) {
    for (int i = 0; i < count; i++) {
      int key = random.nextInt(50);
      switch (random.nextInt(12)) {
        case 0 -> cache.put(key, "p" + i);
        case 1 -> cache.get(key);
        case 2 -> cache.remove(key);
        case 3 -> cache.getAndPut(key, "g" + i);
        case 4 -> cache.putIfAbsent(key, "a" + i);
        case 5 -> cache.replace(key, "r" + i);
        case 6 -> cache.invoke(key, (entry, args) -> {
          entry.setValue(entry.exists() ? entry.getValue() + "+" : "i");
          return null;
        });
        case 7 -> cache.putAll(Map.of(key, "m" + i, (key + 1) % 50, "m" + i, (key + 7) % 50, "m" + i));
        case 8 -> cache.getAll(Set.of(key, (key + 3) % 50, (key + 11) % 50));
        case 9 -> cache.removeAll(Set.of(key, (key + 5) % 50));
        case 10 -> cache.containsKey(key);
        default -> {
          Iterator<Cache.Entry<Integer, String>> it = cache.iterator();
          if (it.hasNext()) {
            it.next();
          }
        }
      }
    }
  }

  /** Loads {@code "loaded <key>"}. */
  static final class IntegerLoader implements CacheLoader<Integer, String>, java.io.Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public String load(Integer key) {
      return "loaded " + key;
    }

    @Override
    public Map<Integer, String> loadAll(Iterable<? extends Integer> keys) {
      Map<Integer, String> loaded = new java.util.HashMap<>();
      keys.forEach(k -> loaded.put(k, load(k)));
      return loaded;
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The keys of {@code universe} the backing store holds. */
  static <K> Set<Object> present(io.cachet.Cache<Object, ?> store, Collection<K> universe) {
    Set<Object> present = new HashSet<>();
    for (K key : universe) {
      if (store.get(key) != null) {
        present.add(key);
      }
    }
    return present;
  }

  private static boolean waiting(Thread thread) {
    if (thread == null) {
      return false;
    }
    Thread.State state = thread.getState();
    return state == Thread.State.WAITING || state == Thread.State.BLOCKED;
  }
}
