package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.cachet.BackendUnavailableException;
import io.cachet.FakeTicker;
import io.cachet.jcache.CachetCacheTest.ClosingLoader;
import io.cachet.jcache.CachetCacheTest.ClosingWriter;
import io.cachet.jcache.CachetCacheTest.RecordingWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.Factory;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryListener;
import javax.cache.expiry.CreatedExpiryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The provider on a backend like Redis ({@link FakeRemoteBackend}): one that never reports the
 * entries it drops, and that can fail.
 */
final class CachetCacheBackendTest {

  private final FakeTicker ticker = new FakeTicker();
  private CacheManager manager;

  @BeforeEach
  void openManager() {
    manager =
        Caching.getCachingProvider()
            .getCacheManager(URI.create("urn:cachet:test:CachetCacheBackendTest"), getClass().getClassLoader());
  }

  @AfterEach
  void closeManager() {
    FakeRemoteBackend.FAIL_NEXT_CONFIG.set(false);
    manager.close();
  }

  private CachetConfiguration<String, String> config() {
    return new CachetConfiguration<String, String>()
        .setBackend(FakeRemoteBackend.NAME)
        .setTypes(String.class, String.class)
        .setClock(ticker)
        .setExecutor(Runnable::run);
  }

  @SuppressWarnings("unchecked")
  private static FakeRemoteBackend<Object, Object> backend(Cache<?, ?> cache) {
    return cache.unwrap(FakeRemoteBackend.class);
  }

  @Test
  void get_ofAKeyTheBackendDroppedSilently_forgetsTheKey() {
    Cache<String, String> cache = manager.createCache("c", config());
    cache.put("kept", "v");
    cache.put("dropped", "v");
    backend(cache).forget("dropped");
    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);

    assertThat(cache.get("dropped")).isNull();

    assertThat(cachet.indexedKeys()).containsExactly("kept");
    List<String> iterated = new ArrayList<>();
    cache.forEach(e -> iterated.add(e.getKey()));
    assertThat(iterated).containsExactly("kept");
  }

  @Test
  void keysWrittenOnceWithAnExpiry_leaveTheIndexOnceTheBackendHasDroppedThem_untouched() {
    // Session ids, say: each written once, never read again. Redis drops them silently at their
    // deadline plus the grace; the key index must not keep one entry per key for good.
    Cache<String, String> cache = manager.createCache("c", config()
        .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE)));
    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);
    int once = 3 * KeyIndex.SWEEP_FLOOR;
    for (int i = 0; i < once; i++) {
      cache.put("session-" + i, "v");
    }
    ticker.advance(java.time.Duration.ofMinutes(1).plus(CachetCache.BACKEND_GRACE).plusSeconds(1));
    for (int i = 0; i < once; i++) {
      backend(cache).forget("session-" + i); // what Redis has done by now
    }
    cache.put("eternal-elsewhere", "v"); // expires a minute from now
    for (int i = 0; cachet.indexedKeys().size() > KeyIndex.SWEEP_FLOOR && i < 4 * once; i++) {
      cache.put("later-" + i, "v");
    }
    assertThat(cachet.indexedKeys()).as("keys the backend dropped").noneMatch(k -> ((String) k).startsWith("session-"))
        .contains("eternal-elsewhere");
  }

  @Test
  void createCache_whileACacheOfThatNameIsBeingDestroyed_waitsForItAndSucceeds() throws Exception {
    Cache<String, String> old = manager.createCache("c", config());
    old.put("k", "old");
    CountDownLatch gate = new CountDownLatch(1);
    FakeRemoteBackend.CLEARING = new CountDownLatch(1);
    FakeRemoteBackend.CLEAR_GATE.set(gate);
    try {
      Thread destroyer = new Thread(() -> manager.destroyCache("c"), "destroyer");
      destroyer.start();
      assertThat(FakeRemoteBackend.CLEARING.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      java.util.concurrent.CompletableFuture<Cache<String, String>> created =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> manager.createCache("c", config()));
      await().during(java.time.Duration.ofMillis(200)).atMost(java.time.Duration.ofSeconds(2))
          .until(() -> !created.isDone());
      FakeRemoteBackend.CLEAR_GATE.set(null);
      gate.countDown();
      Cache<String, String> fresh = created.get(10, java.util.concurrent.TimeUnit.SECONDS);
      destroyer.join(10_000);
      assertThat(fresh.isClosed()).isFalse();
      assertThat(fresh.get("k")).isNull();
      fresh.put("k", "new");
      assertThat(manager.getCache("c", String.class, String.class).get("k")).isEqualTo("new");
    } finally {
      FakeRemoteBackend.CLEAR_GATE.set(null);
      gate.countDown();
    }
  }

  @Test
  void destroyCache_racingTheCachesClose_clearsTheBackend() throws Exception {
    for (int round = 0; round < 20; round++) {
      Cache<String, String> cache = manager.createCache("c", config());
      cache.put("k", "v");
      FakeRemoteBackend<Object, Object> store = backend(cache);
      CountDownLatch release = new CountDownLatch(1);
      Thread registrar = registeringAListenerUntil(release, cache);
      // The destroy takes the cache from the manager, then waits for the registration's lock; the
      // close comes second and must leave the shutdown to the destroy, not close the cache itself
      // without clearing it.
      Thread destroyer = start("destroyer", () -> manager.destroyCache("c"));
      awaitParked(destroyer);
      Thread closer = start("closer", cache::close);
      awaitParked(closer);

      release.countDown();

      joinAll(registrar, destroyer, closer);
      assertThat(manager.getCache("c")).isNull();
      assertThat(store.estimatedSize()).as("entries left by the destroy, round %d", round).isZero();
      assertThat(store.isClosed()).isTrue();
    }
  }

  @Test
  void destroy_joiningACloseInProgress_stillClearsTheBackend() throws Exception {
    // What destroyCache does once it has found the cache, which the close took meanwhile.
    assertDestroyJoiningACloseClearsTheBackend(
        cache -> manager.unwrap(CachetCacheManager.class).retire(cache.unwrap(CachetCache.class), true));
  }

  @Test
  void destroyCache_afterACloseTookTheCache_waitsForIt_andClearsTheBackend() throws Exception {
    assertDestroyJoiningACloseClearsTheBackend(cache -> manager.destroyCache("c")); // finds no cache of that name
  }

  /**
   * Closes cache "c" holding an entry, stopped just after the close took it from the manager, then
   * runs {@code destroy} on another thread, which must wait for the close; once both end, the
   * backend is cleared and closed.
   */
  private void assertDestroyJoiningACloseClearsTheBackend(java.util.function.Consumer<Cache<String, String>> destroy)
      throws Exception {
    Cache<String, String> cache = manager.createCache("c", config());
    cache.put("k", "v");
    FakeRemoteBackend<Object, Object> store = backend(cache);
    CountDownLatch release = new CountDownLatch(1);
    Thread registrar = registeringAListenerUntil(release, cache);
    Thread closer = start("closer", cache::close);
    awaitParked(closer); // took the cache from the manager, waits for the registration's lock
    Thread destroyer = start("destroyer", () -> destroy.accept(cache));
    awaitParked(destroyer);

    release.countDown();

    joinAll(registrar, closer, destroyer);
    assertThat(store.estimatedSize()).as("entries left").isZero();
    assertThat(store.isClosed()).isTrue();
  }

  @Test
  void close_whileTheCacheIsBeingDestroyed_returnsOnceTheDestroyIsDone() throws Exception {
    Cache<String, String> cache = manager.createCache("c", config());
    cache.put("k", "v");
    FakeRemoteBackend<Object, Object> store = backend(cache);
    CountDownLatch gate = new CountDownLatch(1);
    FakeRemoteBackend.CLEARING = new CountDownLatch(1);
    FakeRemoteBackend.CLEAR_GATE.set(gate);
    try {
      Thread destroyer = start("destroyer", () -> manager.destroyCache("c"));
      assertThat(FakeRemoteBackend.CLEARING.await(10, TimeUnit.SECONDS)).isTrue();

      CompletableFuture<Void> closed = CompletableFuture.runAsync(cache::close);

      await("close waiting for the destroy").during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
          .until(() -> !closed.isDone());
      FakeRemoteBackend.CLEAR_GATE.set(null);
      gate.countDown();
      closed.get(10, TimeUnit.SECONDS);
      assertThat(store.estimatedSize()).isZero();
      assertThat(store.isClosed()).as("the backing cache closed when close returns").isTrue();
      joinAll(destroyer);
    } finally {
      FakeRemoteBackend.CLEAR_GATE.set(null);
      gate.countDown();
    }
  }

  /**
   * Registers, on a thread of its own, a listener whose factory waits for {@code release}; returns
   * once the factory runs. The registration holds the lock that a cache's shutdown takes first, so a
   * close or destroy started meanwhile waits there.
   */
  private static Thread registeringAListenerUntil(CountDownLatch release, Cache<String, String> cache)
      throws InterruptedException {
    CountDownLatch inFactory = new CountDownLatch(1);
    Factory<CacheEntryListener<? super String, ? super String>> factory = () -> {
      inFactory.countDown();
      CachetCacheTest.awaitLatch(release);
      return (CacheEntryCreatedListener<String, String>) events -> {};
    };
    Thread registrar = start("registrar", () -> cache.registerCacheEntryListener(
        new MutableCacheEntryListenerConfiguration<>(factory, null, false, true)));
    assertThat(inFactory.await(10, TimeUnit.SECONDS)).isTrue();
    return registrar;
  }

  private static Thread start(String name, Runnable action) {
    Thread thread = new Thread(action, name);
    thread.start();
    return thread;
  }

  /** Waits until {@code thread} waits for a lock or for another thread. */
  private static void awaitParked(Thread thread) {
    await().pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> switch (thread.getState()) {
      case BLOCKED, WAITING, TIMED_WAITING -> true;
      default -> false;
    });
  }

  private static void joinAll(Thread... threads) throws InterruptedException {
    for (Thread thread : threads) {
      thread.join(10_000);
      assertThat(thread.isAlive()).as("%s still running", thread.getName()).isFalse();
    }
  }

  @Test
  void iteratorAndRemoveAll_overKeysTheBackendDroppedSilently_skipThemAndForgetThem() {
    RecordingWriter writer = new RecordingWriter();
    Cache<String, String> cache =
        manager.createCache(
            "c", config().setWriteThrough(true).setCacheWriterFactory(FactoryBuilder.factoryOf(writer)));
    cache.putAll(Map.of("a", "1", "b", "2", "c", "3"));
    backend(cache).forget("a");
    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);

    List<String> iterated = new ArrayList<>();
    cache.forEach(e -> iterated.add(e.getKey()));
    backend(cache).forget("b");
    cache.removeAll();

    assertThat(iterated).containsExactlyInAnyOrder("b", "c");
    // Only what the cache held goes to the writer: "a" and "b" are no longer the cache's to delete.
    assertThat(writer.deleted).containsExactly("c");
    assertThat(cachet.indexedKeys()).isEmpty();
  }

  @Test
  void clear_alsoRemovesWhatOtherClientsWroteToTheBackend() {
    Cache<String, String> cache = manager.createCache("c", config());
    cache.put("own", "v");
    // Another JVM's cache of the same name wrote this one: this cache's index never saw it.
    backend(cache).put("foreign", new Expirable("w", Expirable.ETERNAL));
    assertThat(cache.get("foreign")).isEqualTo("w");

    cache.clear();

    assertThat(cache.get("own")).isNull();
    assertThat(cache.get("foreign")).isNull();
    assertThat(cache.unwrap(CachetCache.class).indexedKeys()).isEmpty();
  }

  @Test
  void operations_backendUnavailable_throwJCacheCacheExceptionWithTheCause() {
    Cache<String, String> cache = manager.createCache("c", config());
    cache.put("k", "v");
    backend(cache).unavailable = true;

    for (Runnable operation : List.<Runnable>of(
        () -> cache.get("k"),
        () -> cache.put("k", "w"),
        () -> cache.remove("k"),
        () -> cache.containsKey("k"),
        () -> cache.getAll(Set.of("k")),
        () -> cache.invoke("k", (entry, args) -> entry.getValue()),
        cache::clear)) {
      assertThatThrownBy(operation::run)
          .isExactlyInstanceOf(CacheException.class)
          .hasMessageContaining("fake-remote backend of cache 'c'")
          .hasCauseInstanceOf(BackendUnavailableException.class);
    }
    backend(cache).unavailable = false;
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void createCache_failingAfterTheBackingCacheExists_closesEverythingAndCanBeRetried() {
    ClosingLoader loader = new ClosingLoader();
    ClosingWriter writer = new ClosingWriter();
    FakeRemoteBackend.FAIL_NEXT_CONFIG.set(true);

    assertThatThrownBy(() -> manager.createCache(
            "c",
            config()
                .setStatisticsEnabled(true)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(loader))
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer))))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("config() failed on purpose");

    assertThat(loader.closed).isTrue();
    assertThat(writer.closed).isTrue();
    assertThat(manager.getCache("c")).isNull();
    assertThat(manager.unwrap(io.cachet.CacheManager.class).cacheNames()).doesNotContain("c");
    Cache<String, String> retried = manager.createCache("c", config().setStatisticsEnabled(true));
    retried.put("k", "v");
    assertThat(retried.get("k")).isEqualTo("v");
  }
}
