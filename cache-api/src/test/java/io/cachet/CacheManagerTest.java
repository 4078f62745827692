package io.cachet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class CacheManagerTest {

  private final List<String> events = new CopyOnWriteArrayList<>();

  record StubOptions(Map<String, String> values) implements BackendOptions {}

  /** A backend whose caches know only their name, config and lifecycle. */
  final class StubProvider implements CacheBackendProvider {

    @Override
    public String name() {
      return "stub";
    }

    @Override
    public Optional<BackendOptions> parseOptions(Map<String, String> options) {
      for (String key : options.keySet()) {
        if (!key.equals("address")) {
          throw new IllegalArgumentException("unknown stub option '" + key + "'");
        }
      }
      return Optional.of(new StubOptions(Map.copyOf(options)));
    }

    @Override
    public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
      context.sharedResource("client", AutoCloseable.class, () -> {
        events.add("open client");
        return () -> events.add("close client");
      });
      return lifecycleOnly(config, proxy -> {
        events.add("close " + config.name());
        context.closed(proxy);
      });
    }
  }

  /**
   * A cache that knows only its name, configuration and lifecycle; its first {@code close()} runs
   * {@code onClose}, which must tell the manager ({@code context.closed}).
   */
  @SuppressWarnings("unchecked") // a proxy of Cache is a Cache of any type
  private static <K, V> Cache<K, V> lifecycleOnly(CacheConfig<K, V> config, java.util.function.Consumer<Cache<?, ?>> onClose) {
    AtomicBoolean closed = new AtomicBoolean();
    return (Cache<K, V>) Proxy.newProxyInstance(CacheManagerTest.class.getClassLoader(), new Class<?>[] {Cache.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "name" -> config.name();
          case "config" -> config;
          case "isClosed" -> closed.get();
          case "close" -> {
            if (closed.compareAndSet(false, true)) {
              onClose.accept((Cache<?, ?>) proxy);
            }
            yield null;
          }
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          case "toString" -> "stub " + config.name() + (closed.get() ? " (closed)" : "");
          default -> throw new AssertionError("not used by these tests: " + method);
        });
  }

  /**
   * A backend {@code name} whose caches stop halfway through their close, as one stopping its
   * threads does: each logs {@code created <cache>}, and its close counts {@code closing} down,
   * waits for {@code release}, logs {@code released <cache>} and only then tells the manager. With
   * {@code sharedClient}, its caches share a client that logs {@code close client}.
   */
  private CacheBackendProvider slowToClose(String name, CountDownLatch closing, CountDownLatch release,
      boolean sharedClient) {
    return new CacheBackendProvider() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
        if (sharedClient) {
          context.sharedResource("client", AutoCloseable.class, () -> () -> events.add("close client"));
        }
        events.add("created " + config.name());
        return lifecycleOnly(config, proxy -> {
          closing.countDown();
          await(release); // a backend stopping its threads
          events.add("released " + config.name());
          context.closed(proxy);
        });
      }
    };
  }

  private CacheManager stubManager() {
    return CacheManager.builder().provider(new StubProvider()).build();
  }

  private static CacheConfig<String, String> stub(String name) {
    return CacheConfig.builder(name).backend("stub").build();
  }

  /** Throws {@code t}, checked or not, without declaring it, as Kotlin or Lombok's {@code @SneakyThrows} do. */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
    throw (T) t;
  }

  @Test
  void create_backendThrowsACheckedException_leavesNeitherTheNameNorTheResourceStuck() {
    CacheBackendProvider failing = new CacheBackendProvider() {
      @Override
      public String name() {
        return "failing";
      }

      @Override
      public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
        context.sharedResource("client", AutoCloseable.class, () -> {
          throw sneaky(new IOException("no route to the server"));
        });
        throw new AssertionError("unreachable");
      }
    };
    CacheConfig<String, String> config = CacheConfig.builder("a").backend("failing").build();
    try (CacheManager manager = CacheManager.builder().provider(failing).build()) {
      for (int attempt = 0; attempt < 2; attempt++) {
        // The second attempt runs the factory again: its slot was not left waiting for ever.
        assertThat(org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
                () -> org.assertj.core.api.Assertions.catchThrowable(() -> manager.create(config))))
            .isInstanceOf(IOException.class)
            .hasMessage("no route to the server");
        assertThat(org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
                () -> manager.getCache("a")))
            .isNull();
      }
    }
  }

  @Test
  void create_waitingForASharedResourceThatFailsToStart_failsWithTheSameTypedException() throws Exception {
    CountDownLatch starting = new CountDownLatch(1);
    CountDownLatch fail = new CountDownLatch(1);
    CacheBackendProvider failing = new CacheBackendProvider() {
      @Override
      public String name() {
        return "unreachable";
      }

      @Override
      public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
        context.sharedResource("client", AutoCloseable.class, () -> {
          starting.countDown();
          try {
            fail.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          throw new BackendUnavailableException("server unreachable", null);
        });
        throw new AssertionError("unreachable");
      }
    };
    try (CacheManager manager = CacheManager.builder().provider(failing).build()) {
      CompletableFuture<Throwable> first = CompletableFuture.supplyAsync(() -> org.assertj.core.api.Assertions
          .catchThrowable(() -> manager.create(CacheConfig.builder("a").backend("unreachable").build())));
      assertThat(starting.await(10, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Throwable> second = new CompletableFuture<>();
      Thread waiter = new Thread(() -> second.complete(org.assertj.core.api.Assertions
          .catchThrowable(() -> manager.create(CacheConfig.builder("b").backend("unreachable").build()))));
      waiter.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (waiter.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
        Thread.onSpinWait(); // until it waits for the first creator's start
      }
      assertThat(waiter.getState()).isEqualTo(Thread.State.WAITING);
      fail.countDown();

      Throwable starter = first.get(10, TimeUnit.SECONDS);
      assertThat(starter).isInstanceOf(BackendUnavailableException.class);
      assertThat(second.get(10, TimeUnit.SECONDS)).isInstanceOf(BackendUnavailableException.class)
          .hasMessage("server unreachable")
          .as("the waiter's own exception, caused by the start it waited for").hasCause(starter);
    }
  }

  @Test
  void create_missingBackend_namesTheModuleToAdd() {
    try (CacheManager manager = CacheManager.create()) {
      assertThatThrownBy(() -> manager.create(CacheConfig.builder("sessions").backend("redis").build()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cache 'sessions' asks for backend 'redis', which is not on the class path")
          .hasMessageContaining("add the io.cachet:cache-redis module");
      assertThatThrownBy(() -> manager.create(CacheConfig.builder("x").backend("memcached").build()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("backend 'memcached'");
      assertThat(manager.cacheNames()).isEmpty();
    }
  }

  @Test
  void create_duplicateName_rejectedAndFirstKept() {
    try (CacheManager manager = stubManager()) {
      Cache<String, String> first = manager.create(stub("a"));
      assertThatThrownBy(() -> manager.create(stub("a")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("a cache named 'a' already exists");
      assertThat(manager.getCache("a", String.class, String.class)).isSameAs(first);
      assertThat(manager.<String, String>getOrCreate(stub("a"))).isSameAs(first);
      assertThat(manager.<String, String>getOrCreate(stub("b")).name()).isEqualTo("b");
      assertThat(manager.cacheNames()).containsExactly("a", "b");
    }
  }

  @Test
  void sharedResource_createdOnceAndClosedAfterTheCaches() {
    CacheManager manager = stubManager();
    manager.create(stub("a"));
    manager.create(stub("b"));
    manager.close();
    manager.close();
    assertThat(events).containsExactly("open client", "close a", "close b", "close client");
    assertThat(manager.isClosed()).isTrue();
  }

  /** A close racing another returns only once the caches and resources are closed, not at once. */
  @Test
  void closeWhileAnotherThreadCloses_returnsOnceThatCloseIsDone() throws Exception {
    CountDownLatch closing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CacheManager manager = CacheManager.builder().provider(slowToClose("stub", closing, release, false)).build();
    manager.create(stub("a"));
    Thread first = new Thread(manager::close);
    first.start();
    assertThat(closing.await(10, TimeUnit.SECONDS)).isTrue();

    java.util.concurrent.CompletableFuture<Void> second = java.util.concurrent.CompletableFuture.runAsync(manager::close);
    assertThatThrownBy(() -> second.get(200, TimeUnit.MILLISECONDS))
        .as("still closing").isInstanceOf(java.util.concurrent.TimeoutException.class);
    release.countDown();
    second.get(10, TimeUnit.SECONDS);
    assertThat(events).containsExactly("created a", "released a");
    first.join(10_000);
  }

  /**
   * A cache that another thread is closing when the manager closes: the cache's own close()
   * returns at once there, so the manager must wait until that thread's close released what it
   * held before it closes the shared client under it.
   */
  @Test
  void closeWhileAnotherThreadClosesACache_closesTheSharedResourcesOnlyAfterThatRelease() throws Exception {
    CountDownLatch releasing = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    CacheManager manager = CacheManager.builder().provider(slowToClose("stub", releasing, finish, true)).build();
    Cache<String, String> cache = manager.create(stub("a"));
    CompletableFuture<Void> user = CompletableFuture.runAsync(cache::close);
    assertThat(releasing.await(10, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<Void> closing = CompletableFuture.runAsync(manager::close);
    try {
      assertThatThrownBy(() -> closing.get(300, TimeUnit.MILLISECONDS))
          .as("the cache is still releasing").isInstanceOf(java.util.concurrent.TimeoutException.class);
      assertThat(events).doesNotContain("close client");
    } finally {
      finish.countDown();
    }
    closing.get(10, TimeUnit.SECONDS);
    user.get(10, TimeUnit.SECONDS);
    assertThat(events).containsExactly("created a", "released a", "close client");
  }

  /**
   * A shared resource still starting (a Redis client connecting) when the manager closes: the
   * manager's close cannot see it yet, so the creation must close it and fail, or it would never
   * be closed (a client's threads and connections left running).
   */
  @Test
  void sharedResourceStartingWhileTheManagerCloses_isClosedAndTheCreateFails() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CacheBackendProvider slow = new CacheBackendProvider() {
      @Override
      public String name() {
        return "slow";
      }

      @Override
      public Optional<BackendOptions> parseOptions(Map<String, String> options) {
        return Optional.empty();
      }

      @Override
      public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
        context.sharedResource("slow-client", AutoCloseable.class, () -> {
          started.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
          return () -> events.add("close slow client");
        });
        throw new AssertionError("the manager was closed: sharedResource must not return");
      }
    };
    CacheManager manager = CacheManager.builder().provider(slow).build();
    CompletableFuture<Cache<String, String>> creating =
        CompletableFuture.supplyAsync(() -> manager.create(CacheConfig.builder("s").backend("slow").build()));
    try {
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      manager.close();
    } finally {
      release.countDown();
    }
    assertThatThrownBy(() -> creating.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IllegalStateException.class)
        .hasRootCauseMessage("the cache manager was closed while shared resource slow-client was starting");
    assertThat(events).containsExactly("close slow client");
  }

  @Test
  void cacheStillClosing_isNotHandedOut_andItsNameIsTakenOnceReleased() throws Exception {
    CountDownLatch closing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CacheConfig<String, String> config = CacheConfig.builder("a").backend("slow").build();
    try (CacheManager manager = CacheManager.builder().provider(slowToClose("slow", closing, release, false)).build()) {
      Cache<String, String> old = manager.create(config);
      CompletableFuture<Void> closingOld = CompletableFuture.runAsync(old::close);
      assertThat(closing.await(10, TimeUnit.SECONDS)).isTrue();

      assertThat(manager.getCache("a")).isNull();
      assertThat(manager.cacheNames()).isEmpty();
      CompletableFuture<Cache<String, String>> recreated = new CompletableFuture<>();
      Thread creator = new Thread(() -> recreated.complete(manager.getOrCreate(config)));
      creator.start();
      // Let it get as far as it goes (waiting for the name, or done) before the old cache releases.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (creator.getState() != Thread.State.WAITING && creator.getState() != Thread.State.TIMED_WAITING
          && creator.isAlive() && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
      release.countDown();

      Cache<String, String> fresh = recreated.get(10, TimeUnit.SECONDS);
      closingOld.get(10, TimeUnit.SECONDS);
      assertThat(fresh).isNotSameAs(old);
      assertThat(fresh.isClosed()).isFalse();
      assertThat(events).containsExactly("created a", "released a", "created a");
    }
  }

  @Test
  void manyThreadsClosingAndRecreatingOneName_neverWaitForEver() {
    CacheBackendProvider slowish = new CacheBackendProvider() {
      @Override
      public String name() {
        return "slowish";
      }

      @Override
      public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
        return lifecycleOnly(config, proxy -> {
          java.util.concurrent.locks.LockSupport.parkNanos(
              java.util.concurrent.ThreadLocalRandom.current().nextLong(200_000)); // releasing
          context.closed(proxy);
        });
      }
    };
    CacheConfig<String, String> config = CacheConfig.builder("a").backend("slowish").build();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try (CacheManager manager = CacheManager.builder().provider(slowish).build()) {
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
        List<CompletableFuture<Void>> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          threads.add(CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 2_000; i++) {
              manager.getOrCreate(config).close();
            }
          }, pool));
        }
        for (CompletableFuture<Void> thread : threads) {
          thread.join();
        }
      });
    } finally {
      pool.shutdownNow();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void afterClose_everyCallThrowsIllegalState() {
    CacheManager manager = stubManager();
    manager.close();
    assertThatThrownBy(() -> manager.create(stub("a"))).isInstanceOf(IllegalStateException.class).hasMessage("the cache manager is closed");
    assertThatThrownBy(() -> manager.getCache("a")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(manager::cacheNames).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void properties_backendValueWithTrailingSpace_takesItsOptions() {
    Properties p = new Properties();
    p.setProperty("cache.o.backend", "stub ");
    p.setProperty("cache.o.stub.address", "127.0.0.1:6379");
    try (CacheManager manager = CacheManager.builder().provider(new StubProvider()).properties(p).build()) {
      assertThat(manager.getCache("o").config().backendOptions(StubOptions.class))
          .contains(new StubOptions(Map.of("address", "127.0.0.1:6379")));
    }
  }

  @Test
  void properties_aValueThatIsNotAString_isRefusedNamingItsKeyNotDropped() {
    Properties p = new Properties();
    p.setProperty("cache.orders.backend", "stub");
    p.put("cache.orders.maximumSize", 500); // put, not setProperty: an Integer
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'cache.orders.maximumSize'")
        .hasMessageContaining("java.lang.Integer")
        .hasMessageContaining("setProperty")
        .hasMessageNotContaining("500");

    Properties defaults = new Properties();
    defaults.put("cache.orders.maximumSize", 500);
    Properties inheriting = new Properties(defaults);
    inheriting.setProperty("cache.orders.backend", "stub");
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(inheriting))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'cache.orders.maximumSize'")
        .hasMessageContaining("defaults");

    Properties stringDefaults = new Properties();
    stringDefaults.setProperty("cache.orders.maximumSize", "100");
    Properties overriding = new Properties(stringDefaults);
    overriding.put("cache.orders.maximumSize", 500); // hidden: getProperty would answer the default
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(overriding))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'cache.orders.maximumSize'")
        .hasMessageContaining("java.lang.Integer");
  }

  @Test
  void properties_coreOptionUnderABackend_isRefusedNotReadAsAnotherCache() {
    Properties p = new Properties();
    p.setProperty("cache.orders.stub.maximumSize", "5");
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(p).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'cache.orders.stub.maximumSize'")
        .hasMessageContaining("write it as cache.orders.maximumSize");
  }

  @Test
  void properties_cacheNamedAfterABackend_thatChoosesItsBackend_isDeclared() {
    Properties p = new Properties();
    p.setProperty("cache.eu.stub.backend", "stub");
    p.setProperty("cache.eu.stub.maximumSize", "5");
    p.setProperty("cache.eu.stub.stub.address", "a:1");
    try (CacheManager manager = CacheManager.builder().provider(new StubProvider()).properties(p).build()) {
      assertThat(manager.getCache("eu.stub").config().maximumSize()).isEqualTo(5);
      assertThat(manager.getCache("eu.stub").config().backendOptions(StubOptions.class))
          .contains(new StubOptions(Map.of("address", "a:1")));
    }
  }

  @Test
  void properties_cacheNameHoldingABackendName_readTheSameWayOnEveryRun() {
    CacheBackendProvider alpha = new CacheBackendProvider() {
      @Override
      public String name() {
        return "alpha";
      }

      @Override
      public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
        throw new AssertionError("not created by this test");
      }
    };
    Properties p = new Properties();
    p.setProperty("cache.x.alpha.y.backend", "stub");
    p.setProperty("cache.x.alpha.y.stub.address", "a:1");
    // Either backend name could start the option; the rightmost one does, whatever the order of
    // the backends found (a hash set's, which differs between runs).
    try (CacheManager manager =
        CacheManager.builder().provider(alpha).provider(new StubProvider()).properties(p).build()) {
      assertThat(manager.cacheNames()).containsExactly("x.alpha.y");
      assertThat(manager.getCache("x.alpha.y").config().backendOptions(StubOptions.class))
          .contains(new StubOptions(Map.of("address", "a:1")));
    }
  }

  @Test
  void properties_declarationsInTheDefaults_areCreatedToo() {
    Properties defaults = new Properties();
    defaults.setProperty("cache.d.backend", "stub");
    Properties p = new Properties(defaults);
    p.setProperty("cache.e.backend", "stub");
    try (CacheManager manager = CacheManager.builder().provider(new StubProvider()).properties(p).build()) {
      assertThat(manager.cacheNames()).containsExactlyInAnyOrder("d", "e");
    }
  }

  @Test
  void properties_declareCachesWithCoreAndBackendOptions() {
    Properties p = new Properties();
    p.setProperty("cache.orders.backend", "stub");
    p.setProperty("cache.orders.maximumSize", "500");
    p.setProperty("cache.orders.evictionPolicy", "LRU");
    p.setProperty("cache.orders.expireAfterWrite", "30s");
    p.setProperty("cache.orders.stub.address", "127.0.0.1:6379");
    p.setProperty("cache.com.example.Users.backend", "stub");
    p.setProperty("unrelated.key", "ignored");
    try (CacheManager manager = CacheManager.builder().provider(new StubProvider()).properties(p).build()) {
      assertThat(manager.cacheNames()).containsExactly("com.example.Users", "orders");
      CacheConfig<?, ?> orders = manager.getCache("orders").config();
      assertThat(orders.maximumSize()).isEqualTo(500);
      assertThat(orders.evictionPolicy()).isEqualTo(EvictionPolicy.LRU);
      assertThat(orders.expireAfterWrite()).contains(java.time.Duration.ofSeconds(30));
      assertThat(orders.backendOptions(StubOptions.class))
          .contains(new StubOptions(Map.of("address", "127.0.0.1:6379")));
    }
  }

  @Test
  void properties_unknownOption_namesTheKey() {
    Properties p = new Properties();
    p.setProperty("cache.orders.maxSize", "500");
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(p).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("unknown cache option 'cache.orders.maxSize' in properties");
  }

  @Test
  void properties_invalidValue_namesTheKeyAndValue() {
    Properties p = new Properties();
    p.setProperty("cache.orders.maximumSize", "-5");
    assertThatThrownBy(() -> CacheManager.fromProperties(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cache.orders.maximumSize in properties: maximumSize must be >= 0, was -5");
  }

  @Test
  void properties_backendOptionsForAnotherBackend_rejected() {
    Properties p = new Properties();
    p.setProperty("cache.orders.backend", "local");
    p.setProperty("cache.orders.stub.address", "x");
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(p).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cache 'orders' uses backend 'local', not 'stub'");
  }

  @Test
  void properties_unknownBackendOption_namesIt() {
    Properties p = new Properties();
    p.setProperty("cache.orders.backend", "stub");
    p.setProperty("cache.orders.stub.adress", "x");
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(p).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cache.orders.stub in properties: unknown stub option 'adress'");
  }

  @Test
  void properties_failingCache_closesTheOnesAlreadyCreated() {
    Properties p = new Properties();
    p.setProperty("cache.a.backend", "stub");
    p.setProperty("cache.b.backend", "redis");
    assertThatThrownBy(() -> CacheManager.builder().provider(new StubProvider()).properties(p).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("io.cachet:cache-redis");
    assertThat(events).containsExactly("open client", "close a", "close client");
  }

  @Test
  void fromPropertiesFile_errorsNameTheFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("cachet.properties");
    Files.writeString(file, "cache.orders.evictionPolicy=random\n");
    assertThatThrownBy(() -> CacheManager.fromProperties(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cache.orders.evictionPolicy in " + file);
    assertThatThrownBy(() -> CacheManager.fromProperties(dir.resolve("missing.properties")))
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageContaining("missing.properties");
  }

  @Test
  void closingACache_removesItFromTheManager() {
    try (CacheManager manager = stubManager()) {
      Cache<String, String> cache = manager.create(stub("a"));
      cache.close();
      assertThat(manager.cacheNames()).isEmpty();
      assertThat(manager.getCache("a", String.class, String.class)).isNull();
      List<String> names = new ArrayList<>(manager.cacheNames());
      assertThat(names).isEmpty();
    }
  }

  @Test
  void getCache_otherTypes_rejectedNamingTheCacheAndBothTypes() {
    try (CacheManager manager = stubManager()) {
      Cache<Long, byte[]> cache =
          manager.create(CacheConfig.builder("a").backend("stub").keyType(Long.class).valueType(byte[].class).build());
      assertThat(manager.getCache("a", Long.class, byte[].class)).isSameAs(cache);
      assertThat(manager.getCache("a")).isSameAs(cache);
      assertThatThrownBy(() -> manager.getCache("a", String.class, String.class))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("cache 'a' holds java.lang.Long -> [B, not java.lang.String -> java.lang.String");
      // A supertype is not enough: a Cache<Object, Object> view could store a String key.
      assertThatThrownBy(() -> manager.getCache("a", Object.class, Object.class))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> manager.getOrCreate(stub("a")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cache 'a' holds java.lang.Long");
      assertThat(manager.getCache("b", String.class, String.class)).isNull();
    }
  }

  @Test
  void properties_typedDeclaration_foundWithItsTypes() {
    Properties p = new Properties();
    p.setProperty("cache.orders.backend", "stub");
    p.setProperty("cache.orders.keyType", "java.lang.Long");
    p.setProperty("cache.orders.valueCodec", "bytes");
    try (CacheManager manager = CacheManager.builder().provider(new StubProvider()).properties(p).build()) {
      assertThat(manager.getCache("orders", Long.class, byte[].class)).isNotNull();
      assertThatThrownBy(() -> manager.getCache("orders", String.class, String.class))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
