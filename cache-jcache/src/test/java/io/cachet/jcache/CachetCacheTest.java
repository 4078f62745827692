package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import java.io.Closeable;
import java.io.Serializable;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryEventFilter;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.event.EventType;
import javax.cache.expiry.AccessedExpiryPolicy;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.expiry.ModifiedExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.integration.CacheWriter;
import javax.cache.integration.CacheWriterException;
import javax.cache.integration.CompletionListenerFuture;
import javax.cache.processor.EntryProcessorException;
import javax.cache.processor.EntryProcessorResult;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The provider's behaviour on the local backend, with a fake clock: no sleeps. */
final class CachetCacheTest {

  private final FakeTicker ticker = new FakeTicker();
  private final ExecutorService eventThreads = Executors.newFixedThreadPool(4);
  private CacheManager manager;

  @BeforeEach
  void openManager() {
    manager =
        Caching.getCachingProvider()
            .getCacheManager(URI.create("urn:cachet:test:CachetCacheTest"), getClass().getClassLoader());
  }

  @AfterEach
  void closeManager() {
    manager.close();
    eventThreads.shutdownNow();
  }

  private <K, V> CachetConfiguration<K, V> config(Class<K> keyType, Class<V> valueType) {
    return new CachetConfiguration<K, V>()
        .setTypes(keyType, valueType)
        .setClock(ticker)
        .setExecutor(Runnable::run);
  }

  // ---------------------------------------------------------------- expiry

  @Test
  void get_afterCreatedExpiry_returnsNullFiresExpiredAndCountsEviction() {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .setStatisticsEnabled(true)
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("k", "v");
    ticker.advance(Duration.ofSeconds(59));
    assertThat(cache.get("k")).isEqualTo("v");

    ticker.advance(Duration.ofSeconds(1));

    assertThat(cache.get("k")).isNull();
    assertThat(listener.events).extracting(e -> e.type).containsExactly(EventType.CREATED, EventType.EXPIRED);
    assertThat(listener.events.get(1).oldValue).isEqualTo("v");
    assertThat(cache.unwrap(CachetCache.class).statistics().getCacheEvictions()).isEqualTo(1);
  }

  @Test
  void get_withAccessedExpiry_extendsTheEntrysLife() {
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExpiryPolicyFactory(AccessedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE)));
    cache.put("k", "v");

    ticker.advance(Duration.ofSeconds(50));
    assertThat(cache.get("k")).isEqualTo("v");
    ticker.advance(Duration.ofSeconds(50));
    assertThat(cache.containsKey("k")).isTrue();
    ticker.advance(Duration.ofSeconds(10));

    assertThat(cache.containsKey("k")).isFalse();
  }

  @Test
  void put_withModifiedExpiry_restartsTheEntrysLife() {
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExpiryPolicyFactory(ModifiedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE)));
    cache.put("k", "v1");
    ticker.advance(Duration.ofSeconds(50));
    cache.put("k", "v2");
    ticker.advance(Duration.ofSeconds(50));

    assertThat(cache.get("k")).isEqualTo("v2");
    ticker.advance(Duration.ofSeconds(10));
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void expireAfterWriteOption_setsModifiedExpiry() {
    Cache<String, String> cache =
        manager.createCache("c", config(String.class, String.class).setOption("expireAfterWrite", "30s"));
    cache.put("k", "v");
    ticker.advance(Duration.ofSeconds(29));
    assertThat(cache.get("k")).isEqualTo("v");
    ticker.advance(Duration.ofSeconds(1));
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void untouchedExpiredEntry_isDroppedByTheBackendAfterTheGrace() {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("forgotten", "v");

    ticker.advance(Duration.ofMinutes(1).plus(CachetCache.BACKEND_GRACE).plusSeconds(1));
    cache.put("other", "w"); // the backend does its maintenance when it is used

    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(listener.events).extracting(e -> e.type + ":" + e.key).contains("EXPIRED:forgotten"));
    assertThat(cache.unwrap(io.cachet.Cache.class).get("forgotten")).isNull();
  }

  // ---------------------------------------------------------------- store-by-value and types

  @Test
  void put_storeByValue_copiesValuesBothWays() {
    Cache<String, Box> cache = manager.createCache("c", config(String.class, Box.class));
    Box box = new Box("a");
    cache.put("k", box);

    box.content = "changed by the caller";
    Box read = cache.get("k");
    read.content = "changed by the reader";

    assertThat(cache.get("k").content).isEqualTo("a");
    assertThat(read).isNotSameAs(cache.get("k"));
  }

  @Test
  void put_storeByReference_sharesTheInstance() {
    Cache<String, Box> cache = manager.createCache("c", config(String.class, Box.class).setStoreByValue(false));
    Box box = new Box("a");
    cache.put("k", box);

    assertThat(cache.get("k")).isSameAs(box);
  }

  @Test
  void put_storeByValueOfNonSerializable_throwsCacheExceptionAndStoresNothing() {
    Cache<String, Object> cache = manager.createCache("c", config(String.class, Object.class));

    assertThatThrownBy(() -> cache.put("k", new Object()))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("java.lang.Object is not Serializable");
    assertThat(cache.containsKey("k")).isFalse();
  }

  @Test
  void put_wrongTypes_throwsClassCastException() {
    @SuppressWarnings({"unchecked", "rawtypes"})
    Cache<Object, Object> raw = (Cache) manager.createCache("c", config(String.class, Long.class));

    assertThatThrownBy(() -> raw.put("k", "not a long"))
        .isInstanceOf(ClassCastException.class)
        .hasMessageContaining("java.lang.Long");
    assertThatThrownBy(() -> raw.put(1, 1L)).isInstanceOf(ClassCastException.class);
    assertThatThrownBy(() -> raw.get(1)).isInstanceOf(ClassCastException.class);
    assertThat(raw.iterator().hasNext()).isFalse();
  }

  @Test
  void getCache_wrongTypes_throwsClassCastException() {
    manager.createCache("c", config(String.class, Long.class));

    assertThatThrownBy(() -> manager.getCache("c", String.class, String.class))
        .isInstanceOf(ClassCastException.class)
        .hasMessageContaining("java.lang.Long");
    assertThat(manager.getCache("c", Object.class, Object.class)).isNotNull();
  }

  // ---------------------------------------------------------------- loader, writer, processor failures

  @Test
  void get_loaderThrows_throwsCacheLoaderExceptionCachesNothingAndRetries() {
    AtomicBoolean fail = new AtomicBoolean(true);
    SimpleLoader loader = new SimpleLoader(key -> {
      if (fail.get()) {
        throw new IllegalStateException("database down");
      }
      return "loaded " + key;
    });
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setReadThrough(true)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(loader)));

    assertThatThrownBy(() -> cache.get("k"))
        .isInstanceOf(CacheLoaderException.class)
        .hasRootCauseMessage("database down");
    assertThat(cache.containsKey("k")).isFalse();

    fail.set(false);
    assertThat(cache.get("k")).isEqualTo("loaded k");
    assertThat(cache.containsKey("k")).isTrue();
  }

  @Test
  void get_concurrentMissesOnOneKey_loadOnce() throws Exception {
    AtomicInteger loads = new AtomicInteger();
    AtomicReference<Thread> loadingThread = new AtomicReference<>();
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SimpleLoader loader = new SimpleLoader(key -> {
      loads.incrementAndGet();
      loadingThread.set(Thread.currentThread());
      loading.countDown();
      awaitLatch(release);
      return "v";
    });
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setReadThrough(true)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(loader)));
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Thread> callers = new CopyOnWriteArrayList<>();
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(threads.submit(() -> {
          callers.add(Thread.currentThread());
          return cache.get("k");
        }));
      }
      assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();
      // Release the loader only once the three other callers wait for the key's lock.
      await().atMost(Duration.ofSeconds(10)).until(() -> callers.size() == 4
          && callers.stream()
              .filter(t -> t != loadingThread.get())
              .allMatch(t -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.BLOCKED));
      release.countDown();
      for (Future<String> result : results) {
        assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("v");
      }
    } finally {
      threads.shutdownNow();
    }
    assertThat(loads).hasValue(1);
  }

  @Test
  void put_writerThrows_throwsCacheWriterExceptionAndKeepsTheOldValue() {
    RecordingWriter writer = new RecordingWriter();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer)));
    cache.put("k", "v1");

    writer.failOn = "v2";
    assertThatThrownBy(() -> cache.put("k", "v2"))
        .isInstanceOf(CacheWriterException.class)
        .hasRootCauseInstanceOf(UnsupportedOperationException.class);

    assertThat(cache.get("k")).isEqualTo("v1");
    assertThat(writer.written).containsExactly(Map.entry("k", "v1"));
  }

  @Test
  void putAll_writerFailsPartway_storesOnlyWhatWasWritten() {
    RecordingWriter writer = new RecordingWriter();
    writer.failOn = "bad";
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer)));
    Map<String, String> entries = new java.util.LinkedHashMap<>();
    entries.put("a", "good");
    entries.put("b", "bad");
    entries.put("c", "good too");

    assertThatThrownBy(() -> cache.putAll(entries)).isInstanceOf(CacheWriterException.class);

    assertThat(cache.get("a")).isEqualTo("good");
    assertThat(cache.containsKey("b")).isFalse();
    assertThat(cache.containsKey("c")).isFalse();
  }

  @Test
  void invoke_processorThrows_throwsEntryProcessorExceptionAndLeavesTheEntry() {
    Cache<String, String> cache = manager.createCache("c", config(String.class, String.class));
    cache.put("k", "v");

    assertThatThrownBy(() -> cache.invoke("k", (entry, args) -> {
          entry.setValue("half-done");
          throw new IllegalArgumentException("boom");
        }))
        .isInstanceOf(EntryProcessorException.class)
        .hasCauseInstanceOf(IllegalArgumentException.class);

    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void invokeAll_oneProcessorThrows_reportsItAndAppliesTheOthers() {
    Cache<String, Integer> cache = manager.createCache("c", config(String.class, Integer.class));
    cache.put("a", 1);
    cache.put("b", 2);

    Map<String, EntryProcessorResult<Integer>> results =
        cache.invokeAll(Set.of("a", "b"), (entry, args) -> {
          if (entry.getKey().equals("b")) {
            throw new IllegalStateException("no b");
          }
          entry.setValue(entry.getValue() + 10);
          return entry.getValue();
        });

    assertThat(results.get("a").get()).isEqualTo(11);
    assertThatThrownBy(() -> results.get("b").get()).isInstanceOf(EntryProcessorException.class);
    assertThat(cache.get("a")).isEqualTo(11);
    assertThat(cache.get("b")).isEqualTo(2);
  }

  @Test
  void invokeAll_synchronousListenerThrowsForOneKey_reportsItAndProcessesTheOthers() {
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .addCacheEntryListenerConfiguration(
                    new MutableCacheEntryListenerConfiguration<>(
                        FactoryBuilder.factoryOf(new ThrowingForKeyListener("a")), null, false, true)));
    Set<String> keys = new java.util.LinkedHashSet<>(List.of("a", "b", "c"));

    Map<String, EntryProcessorResult<String>> results =
        cache.invokeAll(keys, (entry, args) -> {
          entry.setValue("x");
          return "done";
        });

    assertThatThrownBy(() -> results.get("a").get())
        .isInstanceOf(EntryProcessorException.class)
        .hasCauseInstanceOf(CacheEntryListenerException.class)
        .hasRootCauseMessage("listener bug on a");
    assertThat(results.get("b").get()).isEqualTo("done");
    assertThat(results.get("c").get()).isEqualTo("done");
    // The listener fails the call after the change, which stays.
    assertThat(cache.getAll(keys)).containsOnly(Map.entry("a", "x"), Map.entry("b", "x"), Map.entry("c", "x"));
  }

  /** A cache closed during invokeAll fails the call, as a closed cache's every operation does. */
  @Test
  void invokeAll_cacheClosedByAnotherThreadMidway_throwsIllegalState() {
    Cache<String, String> cache = manager.createCache("c", config(String.class, String.class));
    Set<String> keys = new java.util.LinkedHashSet<>(List.of("a", "b", "c"));

    assertThatThrownBy(() -> cache.invokeAll(keys, (entry, args) -> {
      if (entry.getKey().equals("a")) {
        Thread closer = new Thread(cache::close);
        closer.start();
        try {
          closer.join();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
      return "done";
    })).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void invoke_concurrentIncrements_areAtomicPerKey() throws Exception {
    Cache<String, Integer> cache = manager.createCache("c", config(String.class, Integer.class));
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(threads.submit(() -> {
          for (int i = 0; i < 500; i++) {
            cache.invoke("counter", (entry, args) -> {
              entry.setValue(entry.exists() ? entry.getValue() + 1 : 1);
              return null;
            });
          }
        }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
    assertThat(cache.get("counter")).isEqualTo(2_000);
  }

  // ---------------------------------------------------------------- listeners

  @Test
  void synchronousListener_getsOldValuesAndFilteredEventsBeforeTheCallReturns() {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExecutor(eventThreads)
                .addCacheEntryListenerConfiguration(
                    new MutableCacheEntryListenerConfiguration<>(
                        FactoryBuilder.factoryOf(listener),
                        FactoryBuilder.factoryOf(new NotKeyFilter("ignored")),
                        true,
                        true)));

    cache.put("k", "v1");
    cache.put("ignored", "x");
    cache.put("k", "v2");
    cache.remove("k");

    assertThat(listener.events)
        .extracting(e -> e.type + " " + e.key + " " + e.value + " " + e.oldValue)
        .containsExactly("CREATED k v1 null", "UPDATED k v2 v1", "REMOVED k v2 v2");
  }

  @Test
  void synchronousListenerThrows_callThrowsCacheEntryListenerExceptionAfterTheChange() {
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .addCacheEntryListenerConfiguration(
                    new MutableCacheEntryListenerConfiguration<>(
                        FactoryBuilder.factoryOf(new ThrowingListener()), null, false, true)));

    assertThatThrownBy(() -> cache.put("k", "v"))
        .isInstanceOf(CacheEntryListenerException.class)
        .hasRootCauseMessage("listener bug");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void asynchronousListener_getsEventsInOrderAndAThrowingOneDoesNotFailTheCall() {
    RecordingListener listener = new RecordingListener();
    Cache<String, Integer> cache =
        manager.createCache(
            "c",
            config(String.class, Integer.class)
                .setExecutor(eventThreads)
                .addCacheEntryListenerConfiguration(
                    new MutableCacheEntryListenerConfiguration<>(
                        FactoryBuilder.factoryOf(new ThrowingListener()), null, false, false))
                .addCacheEntryListenerConfiguration(listener.configuration(false)));

    for (int i = 0; i < 100; i++) {
      cache.put("k", i);
    }

    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> listener.events.size() == 100);
    assertThat(listener.events).extracting(e -> e.value).containsExactlyElementsOf(range(100));
  }

  @Test
  void registerCacheEntryListener_sameConfigurationTwice_throwsIllegalArgumentException() {
    Cache<String, String> cache = manager.createCache("c", config(String.class, String.class));
    CacheEntryListenerConfiguration<String, String> listener = new RecordingListener().configuration(true);
    cache.registerCacheEntryListener(listener);

    assertThatThrownBy(() -> cache.registerCacheEntryListener(listener))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void deregisterCacheEntryListener_closesItsCloseableListenerAndFilterOnce() {
    Cache<String, String> cache = manager.createCache("c", config(String.class, String.class));
    AtomicInteger closed = new AtomicInteger();
    for (int i = 0; i < 3; i++) {
      CloseCounting listener = new CloseCounting(closed);
      CloseCounting filter = new CloseCounting(closed);
      @SuppressWarnings({"unchecked", "rawtypes"})
      CacheEntryListenerConfiguration<String, String> registration =
          new MutableCacheEntryListenerConfiguration(
              FactoryBuilder.factoryOf(listener), FactoryBuilder.factoryOf(filter), false, true);
      cache.registerCacheEntryListener(registration);
      cache.put("k" + i, "v");

      cache.deregisterCacheEntryListener(registration);

      assertThat(listener.closes).as("listener " + i).hasValue(1);
      assertThat(filter.closes).as("filter " + i).hasValue(1);
    }
    cache.close();
    assertThat(closed).as("closes in all").hasValue(6);
  }

  /**
   * {@code removeAll()} takes its keys from the cache itself: the writer must get copies, as on
   * every other path, or a writer that changes a key it is given changes the stored one, which can
   * then no longer be found and never leaves.
   */
  @Test
  void removeAll_givesTheWriterCopiesOfTheStoredKeys() {
    @SuppressWarnings({"unchecked", "rawtypes"})
    MutableConfiguration<ArrayList, String> configuration = new MutableConfiguration<ArrayList, String>()
        .setTypes(ArrayList.class, String.class).setStoreByValue(true).setWriteThrough(true)
        .setCacheWriterFactory((javax.cache.configuration.Factory) FactoryBuilder.factoryOf(new KeyChangingWriter()));
    Cache<ArrayList, String> cache = manager.createCache("rm", configuration);
    ArrayList<String> key = new ArrayList<>(List.of("a"));
    cache.put(key, "v");

    cache.removeAll();

    assertThat(cache.get(new ArrayList<>(List.of("a")))).isNull();
    assertThat(cache.iterator().hasNext()).isFalse();
    assertThat(cache.unwrap(io.cachet.Cache.class).estimatedSize()).as("entries left in the backend").isZero();
  }

  /** A writer that changes the keys it is given, and reports every delete done. */
  static final class KeyChangingWriter implements CacheWriter<Object, Object>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public void write(Cache.Entry<?, ?> entry) {}

    @Override
    public void writeAll(Collection<Cache.Entry<?, ?>> entries) {
      entries.clear();
    }

    @Override
    @SuppressWarnings("unchecked")
    public void delete(Object key) {
      ((List<String>) key).add("changed by the writer");
    }

    @Override
    public void deleteAll(Collection<?> keys) {
      keys.forEach(this::delete);
      keys.clear();
    }
  }

  @Test
  void registerCacheEntryListener_whoseFilterFactoryFails_closesTheListenerItCreated() {
    Cache<String, String> cache = manager.createCache("c", config(String.class, String.class));
    AtomicInteger closed = new AtomicInteger();
    CloseCounting listener = new CloseCounting(closed);
    @SuppressWarnings({"unchecked", "rawtypes"})
    CacheEntryListenerConfiguration<String, String> registration =
        new MutableCacheEntryListenerConfiguration(
            FactoryBuilder.factoryOf(listener),
            (javax.cache.configuration.Factory<CloseCounting>) () -> {
              throw new IllegalStateException("no filter today");
            },
            false, true);

    assertThatThrownBy(() -> cache.registerCacheEntryListener(registration))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no filter today");

    assertThat(listener.closes).as("the listener that was never registered").hasValue(1);
    assertThat(cache.getConfiguration(CompleteConfiguration.class).getCacheEntryListenerConfigurations())
        .isEmpty();
    cache.put("k", "v"); // the cache still works, and nothing else is closed later
    cache.close();
    assertThat(closed).hasValue(1);
  }

  @Test
  void deregisterCacheEntryListener_byTheListenerInItsCall_closesItAfterTheCallReturns() {
    List<String> happened = new CopyOnWriteArrayList<>();
    AtomicReference<Cache<String, String>> cache = new AtomicReference<>();
    AtomicReference<CacheEntryListenerConfiguration<String, String>> registration = new AtomicReference<>();
    class SelfDeregistering implements CacheEntryCreatedListener<String, String>, Closeable {
      @Override
      public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
        cache.get().deregisterCacheEntryListener(registration.get());
        happened.add("call returns");
      }

      @Override
      public void close() {
        happened.add("close");
      }
    }
    SelfDeregistering listener = new SelfDeregistering();
    @SuppressWarnings({"unchecked", "rawtypes"})
    CacheEntryListenerConfiguration<String, String> configuration =
        new MutableCacheEntryListenerConfiguration(
            (javax.cache.configuration.Factory<SelfDeregistering>) () -> listener, null, false, true);
    registration.set(configuration);
    cache.set(manager.createCache("c", config(String.class, String.class).addCacheEntryListenerConfiguration(configuration)));

    cache.get().put("k", "v");
    cache.get().put("j", "v");

    assertThat(happened).containsExactly("call returns", "close");
  }

  // ---------------------------------------------------------------- lifecycle, statistics, bounds

  @Test
  void close_closesEveryCloseableCustomization() {
    ClosingLoader loader = new ClosingLoader();
    ClosingWriter writer = new ClosingWriter();
    ClosingExpiry expiry = new ClosingExpiry();
    ClosingListener listener = new ClosingListener();
    ClosingFilter filter = new ClosingFilter();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setReadThrough(true)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(loader))
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer))
                .setExpiryPolicyFactory(FactoryBuilder.factoryOf(expiry))
                .addCacheEntryListenerConfiguration(
                    new MutableCacheEntryListenerConfiguration<>(
                        FactoryBuilder.factoryOf(listener), FactoryBuilder.factoryOf(filter), false, true)));

    cache.close();

    assertThat(List.of(loader.closed, writer.closed, expiry.closed, listener.closed, filter.closed))
        .containsOnly(true);
    assertThat(manager.getCache("c")).isNull();
    assertThatThrownBy(() -> cache.get("k")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void close_ofACacheItsManagerIsClosing_returnsOnceTheManagerHasClosedIt() throws Exception {
    SlowClosingWriter writer = new SlowClosingWriter();
    Cache<String, String> cache =
        manager.createCache(
            "c", config(String.class, String.class).setWriteThrough(true).setCacheWriterFactory(() -> writer));
    java.util.concurrent.CompletableFuture<Void> managerClosed =
        java.util.concurrent.CompletableFuture.runAsync(manager::close);
    assertThat(writer.closing.await(10, TimeUnit.SECONDS)).isTrue();

    java.util.concurrent.CompletableFuture<Void> cacheClosed =
        java.util.concurrent.CompletableFuture.runAsync(cache::close);

    await("close waiting for the manager's").during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
        .until(() -> !cacheClosed.isDone());
    writer.release.countDown();
    cacheClosed.get(10, TimeUnit.SECONDS);
    assertThat(writer.closed).as("the writer closed when the cache's close returns").isTrue();
    managerClosed.get(10, TimeUnit.SECONDS);
  }

  @Test
  void managerClose_whoseCachesWritersThrowAnErrorOnClose_stillShutsEveryCacheDown() throws Exception {
    List<Cache<String, String>> caches = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      caches.add(manager.createCache("failing-" + i, config(String.class, String.class).setWriteThrough(true)
          .setCacheWriterFactory(FailingCloseWriter::new)));
    }

    assertThatThrownBy(manager::close).isInstanceOf(AssertionError.class).hasMessage("writer close");

    for (Cache<String, String> cache : caches) {
      java.util.concurrent.CompletableFuture<Void> closed = java.util.concurrent.CompletableFuture.runAsync(cache::close);
      closed.get(10, TimeUnit.SECONDS); // before: all but the first waited for a shutdown that never came
      assertThat(cache.isClosed()).isTrue();
    }
  }

  /**
   * A factory the manager runs under its lock may destroy a cache that another thread is shutting
   * down: the destroy is noted and returns, since that shutdown ends by taking the same lock.
   */
  @Test
  void destroyCache_fromAFactoryRunUnderTheManagersLock_doesNotWaitForTheShutdownThatNeedsIt() throws Exception {
    SlowClosingWriter writer = new SlowClosingWriter();
    Cache<String, String> x = manager.createCache(
        "x", config(String.class, String.class).setWriteThrough(true).setCacheWriterFactory(() -> writer));
    java.util.concurrent.CompletableFuture<Void> closed = java.util.concurrent.CompletableFuture.runAsync(x::close);
    assertThat(writer.closing.await(10, TimeUnit.SECONDS)).isTrue();
    javax.cache.configuration.Factory<CacheLoader<String, String>> tidyingUp = () -> {
      manager.destroyCache("x"); // a factory tidying up an old cache
      return new CacheLoader<>() {
        @Override
        public String load(String key) {
          return null;
        }

        @Override
        public Map<String, String> loadAll(Iterable<? extends String> keys) {
          return Map.of();
        }
      };
    };

    java.util.concurrent.CompletableFuture<Cache<String, String>> created = java.util.concurrent.CompletableFuture
        .supplyAsync(() -> manager.createCache("y", config(String.class, String.class).setReadThrough(true)
            .setCacheLoaderFactory(tidyingUp)));
    assertThat(created.get(10, TimeUnit.SECONDS)).isNotNull(); // before: waited for x's shutdown, holding its lock
    writer.release.countDown();
    closed.get(10, TimeUnit.SECONDS);
    assertThat(writer.closed).isTrue();
  }

  /**
   * A listener factory runs under its cache's configuration lock, which the cache's shutdown takes
   * first: destroying that cache from it, while another thread shuts it down, does not wait.
   */
  @Test
  void destroyCache_fromAListenerFactoryOfTheCacheBeingClosed_doesNotWaitForTheShutdownThatNeedsIt()
      throws Exception {
    Cache<String, String> x = manager.createCache("x", config(String.class, String.class));
    CountDownLatch inFactory = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    javax.cache.configuration.Factory<javax.cache.event.CacheEntryListener<? super String, ? super String>> factory =
        () -> {
          inFactory.countDown();
          awaitLatch(go);
          manager.destroyCache("x");
          return (CacheEntryCreatedListener<String, String>) events -> { };
        };
    java.util.concurrent.CompletableFuture<Void> registered = java.util.concurrent.CompletableFuture.runAsync(
        () -> x.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(factory, null, false, true)));
    assertThat(inFactory.await(10, TimeUnit.SECONDS)).isTrue();
    Thread closer = new Thread(x::close, "closer");
    closer.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> closer.getState() == Thread.State.BLOCKED); // on that lock

    go.countDown();
    registered.get(10, TimeUnit.SECONDS); // before: the destroy waited for the closer, which waited for it
    closer.join(10_000);
    assertThat(closer.isAlive()).isFalse();
    assertThat(x.isClosed()).isTrue();
  }

  @Test
  void close_whoseLoaderThrowsAnErrorOnClose_stillClosesEveryOtherCustomization() {
    ClosingWriter writer = new ClosingWriter();
    ClosingExpiry expiry = new ClosingExpiry();
    ClosingListener listener = new ClosingListener();
    Cache<String, String> cache = manager.createCache("c", config(String.class, String.class)
        .setReadThrough(true)
        .setCacheLoaderFactory(FailingCloseLoader::new)
        .setWriteThrough(true)
        .setCacheWriterFactory(FactoryBuilder.factoryOf(writer))
        .setExpiryPolicyFactory(FactoryBuilder.factoryOf(expiry))
        .addCacheEntryListenerConfiguration(
            new MutableCacheEntryListenerConfiguration<>(FactoryBuilder.factoryOf(listener), null, false, true)));

    assertThatThrownBy(cache::close).isInstanceOf(AssertionError.class).hasMessage("loader close");

    assertThat(List.of(writer.closed, expiry.closed, listener.closed)).containsOnly(true);
    assertThat(cache.isClosed()).isTrue();
  }

  /** A loader whose close fails with an Error. */
  static final class FailingCloseLoader implements CacheLoader<String, String>, Closeable {
    @Override
    public String load(String key) {
      return null;
    }

    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      return Map.of();
    }

    @Override
    public void close() {
      throw new AssertionError("loader close");
    }
  }

  /** A writer whose close fails with an Error, as a test's assertion in it would. */
  static final class FailingCloseWriter implements CacheWriter<String, String>, Closeable {
    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {}

    @Override
    public void writeAll(Collection<Cache.Entry<? extends String, ? extends String>> entries) {}

    @Override
    public void delete(Object key) {}

    @Override
    public void deleteAll(Collection<?> keys) {}

    @Override
    public void close() {
      throw new AssertionError("writer close");
    }
  }

  @Test
  void enableStatistics_registersTheStandardMXBeansAndDestroyUnregistersThem() throws Exception {
    Cache<String, String> cache = manager.createCache("stats cache", config(String.class, String.class));
    MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
    ObjectName statistics =
        new ObjectName("javax.cache:type=CacheStatistics,CacheManager=urn.cachet.test.CachetCacheTest,Cache=stats cache");
    ObjectName configuration =
        new ObjectName("javax.cache:type=CacheConfiguration,CacheManager=urn.cachet.test.CachetCacheTest,Cache=stats cache");
    assertThat(server.isRegistered(statistics)).isFalse();

    manager.enableStatistics("stats cache", true);
    manager.enableManagement("stats cache", true);
    cache.put("k", "v");
    cache.get("k");
    cache.get("missing");

    assertThat(server.getAttribute(statistics, "CacheHits")).isEqualTo(1L);
    assertThat(server.getAttribute(statistics, "CacheMisses")).isEqualTo(1L);
    assertThat(server.getAttribute(statistics, "CachePuts")).isEqualTo(1L);
    assertThat(server.getAttribute(configuration, "KeyType")).isEqualTo("java.lang.String");
    assertThat(server.getAttribute(configuration, "StatisticsEnabled")).isEqualTo(true);

    manager.destroyCache("stats cache");
    assertThat(server.isRegistered(statistics)).isFalse();
    assertThat(server.isRegistered(configuration)).isFalse();
  }

  @Test
  void maximumSizeOption_evictsExactlyAndCountsEvictions() {
    Cache<Integer, String> cache =
        manager.createCache(
            "c",
            config(Integer.class, String.class)
                .setOption("maximumSize", "10")
                .setOption("evictionPolicy", EvictionPolicy.LRU.name())
                .setStatisticsEnabled(true));

    for (int i = 0; i < 25; i++) {
      cache.put(i, "v" + i);
    }

    List<Integer> present = new ArrayList<>();
    cache.forEach(e -> present.add(e.getKey()));
    assertThat(present).containsExactlyInAnyOrderElementsOf(range(15, 25));
    // Counted as the manager's threads handle the backend's removal notices, just after the puts.
    await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(cache.unwrap(CachetCache.class).statistics().getCacheEvictions()).isEqualTo(15));
    assertThat(cache.unwrap(io.cachet.Cache.class).config().maximumSize()).isEqualTo(10);
  }

  @Test
  void iteratorRemove_removesThroughTheWriter() {
    RecordingWriter writer = new RecordingWriter();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer)));
    cache.put("a", "1");
    cache.put("b", "2");

    Iterator<Cache.Entry<String, String>> it = cache.iterator();
    while (it.hasNext()) {
      it.next();
      it.remove();
    }

    assertThat(cache.iterator().hasNext()).isFalse();
    assertThat(writer.deleted).containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void iterator_countsAHitPerEntryReturned_notPerLookAhead() {
    Cache<String, String> cache =
        manager.createCache("c", config(String.class, String.class).setStatisticsEnabled(true));
    cache.put("a", "1");
    cache.put("b", "2");
    CachetStatistics statistics = cache.unwrap(CachetCache.class).statistics();

    Iterator<Cache.Entry<String, String>> it = cache.iterator();
    assertThat(it.hasNext()).isTrue();
    assertThat(it.hasNext()).isTrue();
    assertThat(statistics.getCacheHits()).as("hits after looking ahead only").isZero();

    it.next();
    assertThat(it.hasNext()).isTrue();
    assertThat(statistics.getCacheHits()).as("hits after one entry taken").isEqualTo(1);

    it.next();
    assertThat(it.hasNext()).isFalse();
    assertThat(statistics.getCacheHits()).isEqualTo(2);
    assertThat(statistics.getCacheMisses()).isZero();
  }

  @Test
  void clear_removesWithoutEventsOrWriter() {
    RecordingWriter writer = new RecordingWriter();
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer))
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("a", "1");

    cache.clear();

    assertThat(cache.containsKey("a")).isFalse();
    assertThat(writer.deleted).isEmpty();
    assertThat(listener.events).extracting(e -> e.type).containsExactly(EventType.CREATED);
  }

  @Test
  void unwrap_givesTheBackingCachetCacheOnTheLocalBackend() {
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>());

    io.cachet.Cache<?, ?> backing = cache.unwrap(io.cachet.Cache.class);

    assertThat(backing.config().backend()).isEqualTo("local");
    assertThat(manager.unwrap(io.cachet.CacheManager.class).cacheNames()).contains("c");
    assertThatThrownBy(() -> cache.unwrap(String.class)).isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------- review regressions

  @Test
  void put_writeThroughOfAValueThatCannotBeCopied_failsBeforeTheWriterRuns() {
    KeyRecordingWriter writer = new KeyRecordingWriter();
    Cache<String, Object> cache =
        manager.createCache(
            "c",
            config(String.class, Object.class)
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer)));
    cache.put("k", "v");

    assertThatThrownBy(() -> cache.put("k", new Object()))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("is not Serializable");
    assertThatThrownBy(() -> cache.putAll(Map.of("k", "fine", "j", new Object())))
        .isInstanceOf(CacheException.class);
    assertThatThrownBy(() -> cache.invoke("k", (entry, args) -> {
          entry.setValue(new Object());
          return null;
        }))
        .isInstanceOf(EntryProcessorException.class)
        .hasRootCauseInstanceOf(CacheException.class);

    assertThat(writer.written).containsExactly("k");
    assertThat(cache.get("k")).isEqualTo("v");
    assertThat(cache.containsKey("j")).isFalse();
  }

  @Test
  void invoke_writerThrows_throwsEntryProcessorExceptionAndKeepsTheEntry() {
    RecordingWriter writer = new RecordingWriter();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(writer)));
    cache.put("k", "v1");
    writer.failOn = "v2";

    assertThatThrownBy(() -> cache.invoke("k", (entry, args) -> {
          entry.setValue("v2");
          return null;
        }))
        .isInstanceOf(EntryProcessorException.class)
        .hasCauseInstanceOf(CacheWriterException.class);

    assertThat(cache.get("k")).isEqualTo("v1");
  }

  @Test
  void remove_writerThrows_throwsCacheWriterExceptionAndKeepsTheEntry() {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(new FailingDeleteWriter()))
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("k", "v");

    assertThatThrownBy(() -> cache.remove("k")).isInstanceOf(CacheWriterException.class);
    assertThatThrownBy(() -> cache.getAndRemove("k")).isInstanceOf(CacheWriterException.class);
    assertThatThrownBy(() -> cache.invoke("k", (entry, args) -> {
          entry.remove();
          return null;
        }))
        .isInstanceOf(EntryProcessorException.class);

    assertThat(cache.get("k")).isEqualTo("v");
    assertThat(listener.events).extracting(e -> e.type).containsExactly(EventType.CREATED);
  }

  @Test
  void expiryPolicyThrows_creationNeverExpiresAndAccessOrUpdateKeepTheDeadline() {
    ThrowingExpiry expiry = new ThrowingExpiry();
    Cache<String, String> cache =
        manager.createCache(
            "c", config(String.class, String.class).setExpiryPolicyFactory(FactoryBuilder.factoryOf(expiry)));

    expiry.failCreation = true;
    cache.put("eternal", "v");
    expiry.failCreation = false;
    cache.put("minute", "v"); // one minute
    ticker.advance(Duration.ofSeconds(30));
    cache.get("minute"); // the access expiry throws: the deadline stays
    cache.put("minute", "w"); // the update expiry throws: the deadline stays
    ticker.advance(Duration.ofSeconds(30));

    assertThat(cache.get("minute")).isNull();
    ticker.advance(Duration.ofDays(365));
    assertThat(cache.get("eternal")).isEqualTo("v");
  }

  @Test
  void loadAll_loaderThrows_reportsThroughOnException() throws Exception {
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(new SimpleLoader(key -> {
                  throw new IllegalStateException("database down");
                }))));
    CompletionListenerFuture future = new CompletionListenerFuture();

    cache.loadAll(Set.of("k"), false, future);

    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(CacheLoaderException.class)
        .hasRootCauseMessage("database down");
    assertThat(cache.containsKey("k")).isFalse();
  }

  @Test
  void loadAll_loaderThrowsAnError_reportsItThroughOnException() throws Exception {
    Cache<String, String> cache =
        manager.createCache(
            "c",
            new CachetConfiguration<String, String>() // loadAll on the manager's threads
                .setTypes(String.class, String.class)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(new SimpleLoader(key -> {
                  throw new AssertionError("loader bug");
                }))));
    CompletionListenerFuture future = new CompletionListenerFuture();

    cache.loadAll(Set.of("k"), false, future);

    assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(CacheLoaderException.class)
        .hasCauseInstanceOf(AssertionError.class)
        .hasRootCauseMessage("loader bug");
    assertThat(cache.containsKey("k")).isFalse();
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void typedCache_wrongKeyType_throwsClassCastExceptionFromEveryOperation() {
    Cache<Object, Object> raw = (Cache) manager.createCache("c", config(String.class, Long.class));

    assertThatThrownBy(() -> raw.containsKey(1)).isInstanceOf(ClassCastException.class);
    assertThatThrownBy(() -> raw.getAll(Set.of("k", 1))).isInstanceOf(ClassCastException.class);
    assertThatThrownBy(() -> raw.removeAll(Set.of(1))).isInstanceOf(ClassCastException.class);
    assertThatThrownBy(() -> raw.invoke(1, (entry, args) -> null)).isInstanceOf(ClassCastException.class);
    assertThatThrownBy(() -> raw.invokeAll(Set.of(1), (entry, args) -> null)).isInstanceOf(ClassCastException.class);
    assertThatThrownBy(() -> raw.invoke("k", (entry, args) -> {
          entry.setValue("not a long");
          return null;
        }))
        .isInstanceOf(EntryProcessorException.class)
        .hasCauseInstanceOf(ClassCastException.class);
    assertThat(raw.iterator().hasNext()).isFalse();
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void put_afterTheBackendDroppedAnExpiredEntry_reportsExpiredBeforeCreated(EvictionPolicy policy) {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExecutor(eventThreads) // backend notices are not handled on the writing thread
                .setOption("evictionPolicy", policy.name())
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .setStatisticsEnabled(true)
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("k", "v1");

    ticker.advance(Duration.ofMinutes(1).plus(CachetCache.BACKEND_GRACE).plusSeconds(1));
    cache.put("k", "v2"); // the backend dropped v1 by itself; its notice comes later

    assertThat(listener.events)
        .extracting(e -> e.type + ":" + e.value)
        .containsExactly("CREATED:v1", "EXPIRED:v1", "CREATED:v2");
    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(cachet.indexedKeys()).containsExactly("k"));
    assertThat(cachet.statistics().getCacheEvictions()).isEqualTo(1);
    assertThat(cache.get("k")).isEqualTo("v2");
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void sizeEvictionOfAnEntryPastItsDeadline_reportsExpired(EvictionPolicy policy) {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setOption("maximumSize", "1")
                .setOption("evictionPolicy", policy.name())
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .setStatisticsEnabled(true)
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("a", "v");
    ticker.advance(Duration.ofSeconds(90)); // past a's deadline, within the backend's grace
    cache.put("b", "w"); // the backend evicts a for size, not knowing its deadline passed

    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);
    await().atMost(Duration.ofSeconds(10)).until(() -> cachet.statistics().getCacheEvictions() == 1);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(listener.events).extracting(e -> e.type + ":" + e.key).contains("EXPIRED:a"));
  }

  @Test
  void backendIdleExpiryOfAnEntryWithinItsDeadline_isAnEvictionWithoutExpired() {
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setOption("expireAfterAccess", "1m")
                .setStatisticsEnabled(true)
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("a", "v"); // eternal by JCache's policy
    ticker.advance(Duration.ofMinutes(2));
    cache.put("b", "w"); // the backend expires a, idle for longer than expireAfterAccess

    CachetCache<?, ?> cachet = cache.unwrap(CachetCache.class);
    await().atMost(Duration.ofSeconds(10)).until(() -> cachet.statistics().getCacheEvictions() == 1);
    assertThat(listener.events).extracting(e -> e.type + ":" + e.key).containsExactly("CREATED:a", "CREATED:b");
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void close_eventsStillQueuedForAnAsynchronousListener_areDropped_notDeliveredAfterItsClose() {
    List<Runnable> held = new CopyOnWriteArrayList<>();
    CountingAfterClose listener = new CountingAfterClose();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExecutor(held::add) // deliveries wait until the test runs them
                .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration(
                    FactoryBuilder.factoryOf(listener), null, false, false)));
    cache.put("k", "v");
    assertThat(held).as("a delivery task waits").isNotEmpty();

    cache.close();
    assertThat(listener.closed).isTrue();
    held.forEach(Runnable::run);

    assertThat(listener.afterClose).as("events after the listener was closed").hasValue(0);
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void close_aListenerCreatingACacheOfTheSameNameInItsClose_isRefused_notLeftWaitingForItself() {
    RecreatingOnClose listener = new RecreatingOnClose();
    listener.manager = manager;
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration(
                    FactoryBuilder.factoryOf(listener), null, false, true)));

    assertThat(java.util.concurrent.CompletableFuture.runAsync(cache::close)).succeedsWithin(Duration.ofSeconds(10));
    assertThat(listener.thrown).isInstanceOf(javax.cache.CacheException.class).hasMessageContaining("still closing");
  }

  @Test
  void put_slowWriter_deadlineCountsFromTheEndOfTheWrite() {
    Cache<String, String> cache =
        manager.createCache(
            "c",
            config(String.class, String.class)
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .setWriteThrough(true)
                .setCacheWriterFactory(FactoryBuilder.factoryOf(new SlowWriter(ticker))));

    cache.put("k", "v"); // the writer takes two minutes
    assertThat(cache.get("k")).isEqualTo("v");

    cache.invoke("j", (entry, args) -> {
      ticker.advance(Duration.ofMinutes(2)); // and so does the processor
      entry.setValue("w");
      return null;
    });
    assertThat(cache.get("j")).isEqualTo("w");
  }

  @Test
  void updates_scheduleNothingOnTheEventExecutor() {
    AtomicInteger tasks = new AtomicInteger();
    Cache<String, Integer> cache =
        manager.createCache(
            "c",
            config(String.class, Integer.class).setExecutor(task -> {
              tasks.incrementAndGet();
              task.run();
            }));

    for (int i = 0; i < 100; i++) {
      cache.put("k", i);
    }
    cache.remove("k");

    assertThat(tasks).hasValue(0);
  }

  @Test
  void customClock_drivesTheBackendsTimeToLiveToo() {
    MutableClock clock = new MutableClock();
    RecordingListener listener = new RecordingListener();
    Cache<String, String> cache =
        manager.createCache(
            "c",
            new CachetConfiguration<String, String>()
                .setTypes(String.class, String.class)
                .setClock(clock)
                .setExecutor(Runnable::run)
                .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ONE_MINUTE))
                .addCacheEntryListenerConfiguration(listener.configuration(true)));
    cache.put("forgotten", "v");

    clock.advance(Duration.ofMinutes(1).plus(CachetCache.BACKEND_GRACE).plusSeconds(1));
    cache.put("other", "w"); // the backend does its maintenance when it is used

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(listener.events).extracting(e -> e.type + ":" + e.key).contains("EXPIRED:forgotten"));
  }

  @Test
  void createCache_namesWithObjectNameSpecialCharacters_registersAndUnregistersTheirMXBeans() throws Exception {
    MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
    Map<String, String> names = new java.util.LinkedHashMap<>();
    names.put("a*b", ObjectName.quote("a*b"));
    names.put("what?", ObjectName.quote("what?"));
    names.put("say \"hi\"", ObjectName.quote("say \"hi\""));
    names.put("a,b=c:d", "a.b.c.d");
    names.put("back\\slash", "back\\slash");
    for (Map.Entry<String, String> name : names.entrySet()) {
      manager.createCache(
          name.getKey(),
          config(String.class, String.class).setStatisticsEnabled(true).setManagementEnabled(true));
      ObjectName statistics =
          new ObjectName("javax.cache:type=CacheStatistics,CacheManager=urn.cachet.test.CachetCacheTest,Cache=" + name.getValue());
      ObjectName configuration =
          new ObjectName("javax.cache:type=CacheConfiguration,CacheManager=urn.cachet.test.CachetCacheTest,Cache=" + name.getValue());

      assertThat(server.isRegistered(statistics)).as(name.getKey()).isTrue();
      assertThat(server.isRegistered(configuration)).as(name.getKey()).isTrue();
      manager.destroyCache(name.getKey());
      assertThat(server.isRegistered(statistics)).as(name.getKey()).isFalse();
      assertThat(server.isRegistered(configuration)).as(name.getKey()).isFalse();
    }
  }

  @Test
  void createCache_nameWhoseMBeanNameIsTaken_warnsNamingTheCacheAndTheClash() {
    ch.qos.logback.classic.Logger log =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(JmxRegistration.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    ch.qos.logback.classic.Level level = log.getLevel();
    log.setLevel(ch.qos.logback.classic.Level.WARN);
    log.setAdditive(false); // not on the console
    log.addAppender(appender);
    try {
      manager.createCache("a:b", config(String.class, String.class).setStatisticsEnabled(true));
      manager.createCache("a.b", config(String.class, String.class).setStatisticsEnabled(true));
    } finally {
      log.detachAppender(appender);
      log.setAdditive(true);
      log.setLevel(level);
    }

    assertThat(appender.list)
        .singleElement()
        .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .asString()
        .contains("cache 'a.b'", "CacheStatistics", "another cache", "same URI",
            "javax.cache:type=CacheStatistics,CacheManager=urn.cachet.test.CachetCacheTest,Cache=a.b");
  }

  // ---------------------------------------------------------------- helpers

  private static List<Integer> range(int end) {
    return range(0, end);
  }

  private static List<Integer> range(int start, int end) {
    List<Integer> values = new ArrayList<>();
    for (int i = start; i < end; i++) {
      values.add(i);
    }
    return values;
  }

  static void awaitLatch(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A mutable, serializable value. */
  static final class Box implements Serializable {
    private static final long serialVersionUID = 1L;
    String content;

    Box(String content) {
      this.content = content;
    }
  }

  record Seen(EventType type, Object key, Object value, Object oldValue) {}

  /** Records every event it gets, in order. */
  /** A listener whose close() creates a cache of its own cache's name, and keeps what that threw. */
  static final class RecreatingOnClose implements CacheEntryCreatedListener<Object, Object>, java.io.Closeable,
      Serializable {
    private static final long serialVersionUID = 1L;
    transient CacheManager manager;
    volatile Throwable thrown;

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void onCreated(Iterable events) {}

    @Override
    public void close() {
      try {
        manager.createCache("c", new MutableConfiguration<String, String>());
      } catch (RuntimeException e) {
        thrown = e;
      }
    }
  }

  /** A listener that counts the events it gets after it was closed. */
  static final class CountingAfterClose implements CacheEntryCreatedListener<Object, Object>, java.io.Closeable,
      Serializable {
    private static final long serialVersionUID = 1L;
    volatile boolean closed;
    final java.util.concurrent.atomic.AtomicInteger before = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger afterClose = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void onCreated(Iterable events) {
      (closed ? afterClose : before).incrementAndGet();
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  static final class RecordingListener
      implements CacheEntryCreatedListener<Object, Object>, CacheEntryUpdatedListener<Object, Object>,
          CacheEntryRemovedListener<Object, Object>, CacheEntryExpiredListener<Object, Object>,
          Serializable {
    private static final long serialVersionUID = 1L;
    final List<Seen> events = new CopyOnWriteArrayList<>();

    @SuppressWarnings({"unchecked", "rawtypes"})
    <K, V> CacheEntryListenerConfiguration<K, V> configuration(boolean synchronous) {
      return new MutableCacheEntryListenerConfiguration(FactoryBuilder.factoryOf(this), null, true, synchronous);
    }

    private void record(Iterable<CacheEntryEvent<?, ?>> batch) {
      for (CacheEntryEvent<?, ?> e : batch) {
        events.add(new Seen(e.getEventType(), e.getKey(), e.getValue(), e.isOldValueAvailable() ? e.getOldValue() : null));
      }
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void onCreated(Iterable events) {
      record(events);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void onUpdated(Iterable events) {
      record(events);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void onRemoved(Iterable events) {
      record(events);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void onExpired(Iterable events) {
      record(events);
    }
  }

  /** Throws on every creation. */
  static final class ThrowingListener implements CacheEntryCreatedListener<Object, Object>,
      CacheEntryUpdatedListener<Object, Object>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public void onCreated(Iterable<CacheEntryEvent<?, ?>> events) {
      throw new IllegalStateException("listener bug");
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<?, ?>> events) {
      throw new IllegalStateException("listener bug");
    }
  }

  /** Throws on the creation of one key. */
  record ThrowingForKeyListener(String key) implements CacheEntryCreatedListener<String, String>, Serializable {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        if (event.getKey().equals(key)) {
          throw new IllegalStateException("listener bug on " + key);
        }
      }
    }
  }

  /** A listener and filter that counts its closes, and all closes in {@code total}. */
  static final class CloseCounting
      implements CacheEntryCreatedListener<Object, Object>, CacheEntryEventFilter<Object, Object>, Closeable,
          Serializable {
    private static final long serialVersionUID = 1L;
    final AtomicInteger closes = new AtomicInteger();
    private final transient AtomicInteger total;

    CloseCounting(AtomicInteger total) {
      this.total = total;
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<?, ?>> events) {}

    @Override
    public boolean evaluate(CacheEntryEvent<?, ?> event) {
      return true;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
      total.incrementAndGet();
    }
  }

  /** Lets every event through but those of one key. */
  record NotKeyFilter(String key) implements CacheEntryEventFilter<String, String>, Serializable {
    @Override
    public boolean evaluate(CacheEntryEvent<? extends String, ? extends String> event) {
      return !event.getKey().equals(key);
    }
  }

  /** A loader from a function. */
  static final class SimpleLoader implements CacheLoader<String, String>, Serializable {
    private static final long serialVersionUID = 1L;
    private final transient java.util.function.Function<String, String> function;

    SimpleLoader(java.util.function.Function<String, String> function) {
      this.function = function;
    }

    @Override
    public String load(String key) {
      return function.apply(key);
    }

    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      Map<String, String> loaded = new HashMap<>();
      keys.forEach(k -> loaded.put(k, load(k)));
      return loaded;
    }
  }

  /** Records writes and deletes; fails writing the value {@code failOn}. */
  static final class RecordingWriter implements CacheWriter<String, String>, Serializable {
    private static final long serialVersionUID = 1L;
    final List<Map.Entry<String, String>> written = new CopyOnWriteArrayList<>();
    final List<String> deleted = new CopyOnWriteArrayList<>();
    volatile String failOn = null;

    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {
      if (entry.getValue().equals(failOn)) {
        throw new UnsupportedOperationException("cannot write " + entry.getKey());
      }
      written.add(Map.entry(entry.getKey(), entry.getValue()));
    }

    @Override
    public void writeAll(Collection<Cache.Entry<? extends String, ? extends String>> entries) {
      for (Iterator<Cache.Entry<? extends String, ? extends String>> it = entries.iterator(); it.hasNext(); ) {
        write(it.next());
        it.remove(); // what is left in the collection was not written
      }
    }

    @Override
    public void delete(Object key) {
      deleted.add((String) key);
    }

    @Override
    public void deleteAll(Collection<?> keys) {
      for (Iterator<?> it = keys.iterator(); it.hasNext(); ) {
        delete(it.next());
        it.remove();
      }
    }
  }

  /** Records the keys written; store-by-value tests give it values of any type. */
  static final class KeyRecordingWriter implements CacheWriter<Object, Object>, Serializable {
    private static final long serialVersionUID = 1L;
    final List<Object> written = new CopyOnWriteArrayList<>();

    @Override
    public void write(Cache.Entry<?, ?> entry) {
      written.add(entry.getKey());
    }

    @Override
    public void writeAll(Collection<Cache.Entry<?, ?>> entries) {
      for (Iterator<Cache.Entry<?, ?>> it = entries.iterator(); it.hasNext(); ) {
        write(it.next());
        it.remove();
      }
    }

    @Override
    public void delete(Object key) {}

    @Override
    public void deleteAll(Collection<?> keys) {
      keys.clear();
    }
  }

  /** Writes nothing and fails every delete. */
  static final class FailingDeleteWriter implements CacheWriter<String, String>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {}

    @Override
    public void writeAll(Collection<Cache.Entry<? extends String, ? extends String>> entries) {
      entries.clear();
    }

    @Override
    public void delete(Object key) {
      throw new IllegalStateException("cannot delete " + key);
    }

    @Override
    public void deleteAll(Collection<?> keys) {
      throw new IllegalStateException("cannot delete " + keys);
    }
  }

  /** Takes two minutes of fake time to write. */
  static final class SlowWriter implements CacheWriter<String, String>, Serializable {
    private static final long serialVersionUID = 1L;
    private final transient FakeTicker ticker;

    SlowWriter(FakeTicker ticker) {
      this.ticker = ticker;
    }

    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {
      ticker.advance(Duration.ofMinutes(2));
    }

    @Override
    public void writeAll(Collection<Cache.Entry<? extends String, ? extends String>> entries) {
      entries.clear();
    }

    @Override
    public void delete(Object key) {}

    @Override
    public void deleteAll(Collection<?> keys) {
      keys.clear();
    }
  }

  /** One minute for creations unless told to fail; fails every access and update. */
  static final class ThrowingExpiry implements ExpiryPolicy, Serializable {
    private static final long serialVersionUID = 1L;
    volatile boolean failCreation;

    @Override
    public javax.cache.expiry.Duration getExpiryForCreation() {
      if (failCreation) {
        throw new IllegalStateException("no creation expiry");
      }
      return javax.cache.expiry.Duration.ONE_MINUTE;
    }

    @Override
    public javax.cache.expiry.Duration getExpiryForAccess() {
      throw new IllegalStateException("no access expiry");
    }

    @Override
    public javax.cache.expiry.Duration getExpiryForUpdate() {
      throw new IllegalStateException("no update expiry");
    }
  }

  /** A wall clock the test moves; not a {@link io.cachet.Ticker}. */
  static final class MutableClock implements java.time.InstantSource {
    private volatile java.time.Instant now = java.time.Instant.parse("2030-01-01T00:00:00Z");

    void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public java.time.Instant instant() {
      return now;
    }
  }

  static final class ClosingLoader implements CacheLoader<String, String>, Closeable, Serializable {
    private static final long serialVersionUID = 1L;
    volatile boolean closed;

    @Override
    public String load(String key) {
      return null;
    }

    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      return Map.of();
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  static final class ClosingWriter implements CacheWriter<String, String>, Closeable, Serializable {
    private static final long serialVersionUID = 1L;
    volatile boolean closed;

    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {}

    @Override
    public void writeAll(Collection<Cache.Entry<? extends String, ? extends String>> entries) {}

    @Override
    public void delete(Object key) {}

    @Override
    public void deleteAll(Collection<?> keys) {}

    @Override
    public void close() {
      closed = true;
    }
  }

  /** A writer whose close waits until released. */
  static final class SlowClosingWriter implements CacheWriter<String, String>, Closeable {
    final CountDownLatch closing = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean closed;

    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {}

    @Override
    public void writeAll(Collection<Cache.Entry<? extends String, ? extends String>> entries) {}

    @Override
    public void delete(Object key) {}

    @Override
    public void deleteAll(Collection<?> keys) {}

    @Override
    public void close() {
      closing.countDown();
      awaitLatch(release);
      closed = true;
    }
  }

  static final class ClosingExpiry implements ExpiryPolicy, Closeable, Serializable {
    private static final long serialVersionUID = 1L;
    volatile boolean closed;

    @Override
    public javax.cache.expiry.Duration getExpiryForCreation() {
      return javax.cache.expiry.Duration.ETERNAL;
    }

    @Override
    public javax.cache.expiry.Duration getExpiryForAccess() {
      return null;
    }

    @Override
    public javax.cache.expiry.Duration getExpiryForUpdate() {
      return null;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  static final class ClosingListener implements CacheEntryCreatedListener<String, String>, Closeable, Serializable {
    private static final long serialVersionUID = 1L;
    volatile boolean closed;

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {}

    @Override
    public void close() {
      closed = true;
    }
  }

  static final class ClosingFilter implements CacheEntryEventFilter<String, String>, Closeable, Serializable {
    private static final long serialVersionUID = 1L;
    volatile boolean closed;

    @Override
    public boolean evaluate(CacheEntryEvent<? extends String, ? extends String> event) {
      return true;
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
