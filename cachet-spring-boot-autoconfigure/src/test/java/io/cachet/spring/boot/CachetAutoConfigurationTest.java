package io.cachet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.CacheConfig;
import io.cachet.codec.Codecs;
import io.cachet.spring.CachetCacheManager;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.cache.autoconfigure.CacheManagerCustomizer;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.cache.CacheManager;
import org.springframework.cache.interceptor.CacheResolver;
import org.springframework.cache.concurrent.ConcurrentMapCacheManager;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** What the auto-configuration creates, when it backs off, and how it reports bad properties. */
final class CachetAutoConfigurationTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(CachetAutoConfiguration.class));

  @Test
  void noDeclaration_givesADynamicManagerOfLocalCaches() {
    runner.run(context -> {
      CacheManager spring = context.getBean(CacheManager.class);
      assertThat(spring).isInstanceOf(CachetCacheManager.class);
      org.springframework.cache.Cache any = spring.getCache("anything");
      any.put(42L, new Book("1", "t"));
      assertThat(any.get(42L).get()).isEqualTo(new Book("1", "t"));
      assertThat(context.getBean(io.cachet.CacheManager.class).cacheNames()).contains("anything");
    });
  }

  @Test
  void meters_carryTheTagsOfBootsOwnCacheMeters() {
    runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("cachet.caches.books.maximum-size=5")
        .run(context -> {
          context.getBean(CacheManager.class).getCache("books").get("1");
          MeterRegistry registry = context.getBean(MeterRegistry.class);
          // Boot's CacheMetricsRegistrar adds name to Micrometer's cache tag; dashboards select on either.
          assertThat(registry.get("cache.gets")
              .tags("cache", "books", "name", "books", "cache.manager", "cacheManager", "result", "miss")
              .functionCounter().count()).isEqualTo(1);
        });
  }

  @Test
  void meters_nameTheApplicationsOwnSpringManager_asBootDoes() {
    runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withUserConfiguration(OrdersCacheManager.class)
        .run(context -> {
          context.getBean(CachetCacheManager.class).getCache("orders").get("1");
          // Boot drops the CacheManager suffix of the bean name: ordersCacheManager is "orders".
          assertThat(context.getBean(MeterRegistry.class).get("cache.gets")
              .tags("cache", "orders", "cache.manager", "orders", "result", "miss")
              .functionCounter().count()).isEqualTo(1);
        });
  }

  @Test
  void meters_withoutASpringManager_nameTheCachetManager() {
    runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withUserConfiguration(OwnCacheManager.class)
        .withPropertyValues("cachet.caches.books.maximum-size=5")
        .run(context -> {
          assertThat(context).doesNotHaveBean(CachetCacheManager.class);
          ((io.cachet.Cache<Object, ?>) context.getBean(io.cachet.CacheManager.class).getCache("books")).get("1");
          assertThat(context.getBean(MeterRegistry.class).get("cache.gets")
              .tags("cache", "books", "cache.manager", "cachet", "result", "miss")
              .functionCounter().count()).isEqualTo(1);
        });
  }

  @Test
  void managerName_dropsTheSuffixAsBootDoes() {
    assertThat(CachetMeterBinder.managerName("cacheManager")).isEqualTo("cacheManager");
    assertThat(CachetMeterBinder.managerName("ordersCacheManager")).isEqualTo("orders");
    assertThat(CachetMeterBinder.managerName("ordersCACHEMANAGER")).isEqualTo("orders");
    assertThat(CachetMeterBinder.managerName("orders")).isEqualTo("orders");
  }

  @Test
  void applicationCacheResolver_makesTheSpringManagerBackOff_asBootsOwnDoes() {
    runner.withBean("cacheResolver", CacheResolver.class, () -> context -> List.of())
        .withPropertyValues("cachet.caches.books.maximum-size=5")
        .run(context -> {
          assertThat(context).hasNotFailed().doesNotHaveBean(CacheManager.class);
          assertThat(context.getBean(io.cachet.CacheManager.class).cacheNames()).containsExactly("books");
        });
  }

  @Test
  void applicationCacheManager_makesTheSpringManagerBackOff() {
    runner.withUserConfiguration(OwnCacheManager.class)
        .withPropertyValues("cachet.caches.books.maximum-size=5")
        .run(context -> {
          assertThat(context.getBean(CacheManager.class)).isInstanceOf(ConcurrentMapCacheManager.class);
          assertThat(context.getBean(io.cachet.CacheManager.class).cacheNames()).containsExactly("books");
        });
  }

  @Test
  void applicationCachetManager_getsTheDeclaredCachesAndCacheConfigBeans() {
    runner.withBean("applicationCachet", io.cachet.CacheManager.class, io.cachet.CacheManager::create)
        .withUserConfiguration(ConfigBean.class)
        .withPropertyValues("cachet.caches.books.maximum-size=5")
        .run(context -> {
          assertThat(context).hasNotFailed();
          io.cachet.CacheManager cachet = context.getBean(io.cachet.CacheManager.class);
          assertThat(cachet.cacheNames()).containsExactlyInAnyOrder("books", "typed");
          assertThat(cachet.getCache("books").config().maximumSize()).isEqualTo(5);
          CacheManager spring = context.getBean(CacheManager.class);
          spring.getCache("books").put("1", new Book("1", "t"));
          assertThat(spring.getCache("books").get("1", Book.class)).isEqualTo(new Book("1", "t"));
          spring.getCache("typed").put("k", null);
          assertThat(spring.getCache("typed").get("k")).isNotNull();
        });
  }

  @Test
  void applicationCachetManagerHoldingADeclaredNameAlready_servesItsCache() {
    runner.withBean("applicationCachet", io.cachet.CacheManager.class, () -> {
          io.cachet.CacheManager manager = io.cachet.CacheManager.create();
          manager.create(CacheConfig.builder("books").keyType(Object.class).valueType(Object.class).maximumSize(9).build());
          return manager;
        })
        .withPropertyValues("cachet.caches.books.maximum-size=5")
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(io.cachet.CacheManager.class).getCache("books").config().maximumSize()).isEqualTo(9);
          assertThat(context.getBean(CacheManager.class).getCache("books").getNativeCache())
              .isSameAs(context.getBean(io.cachet.CacheManager.class).getCache("books"));
        });
  }

  @Test
  void applicationCachetManagerHoldingADeclaredNameWithOtherValues_failsStartUpSayingWhy() {
    runner.withBean("applicationCachet", io.cachet.CacheManager.class, () -> {
          io.cachet.CacheManager manager = io.cachet.CacheManager.create();
          manager.create(CacheConfig.builder("books").build());
          return manager;
        })
        .withPropertyValues("cachet.caches.books.maximum-size=5")
        .run(context -> {
          assertThat(context).hasFailed();
          assertThat(context.getStartupFailure()).rootCause()
              .hasMessageContaining("cache 'books', declared under cachet.caches.books, is already in the application's io.cachet.CacheManager")
              .hasMessageContaining("java.lang.String values");
        });
  }

  @Test
  void springCacheType_makesTheSpringManagerBackOff() {
    runner.withPropertyValues("spring.cache.type=simple").run(context ->
        assertThat(context).doesNotHaveBean(CacheManager.class).hasSingleBean(io.cachet.CacheManager.class));
  }

  @Test
  void springCacheTypeNone_createsNoDeclaredCache_soNothingIsConnected() {
    // An address nothing listens on: creating the cache would fail start-up.
    runner.withPropertyValues("spring.cache.type=none", "cachet.caches.orders.backend=redis",
            "cachet.caches.orders.redis.address=redis://127.0.0.1:1", "cachet.caches.orders.value-codec=utf8")
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).doesNotHaveBean(CachetCacheManager.class);
          assertThat(context.getBean(io.cachet.CacheManager.class).cacheNames()).isEmpty();
        });
  }

  @Test
  void springCacheTypeWithABadDeclaration_stillFailsStartUpNamingTheProperty() {
    runner.withPropertyValues("spring.cache.type=none", "cachet.caches.orders.maximum-size=-1")
        .run(context -> assertThat(context).hasFailed().getFailure()
            .hasMessageContaining("cachet.caches.orders.maximum-size"));
  }

  @Test
  void springCacheNames_declareLocalCaches_andMakeTheManagerStatic() {
    runner.withPropertyValues("spring.cache.cache-names=books, authors", "cachet.caches.authors.maximum-size=7")
        .run(context -> {
          CacheManager spring = context.getBean(CacheManager.class);
          assertThat(spring.getCacheNames()).containsExactlyInAnyOrder("books", "authors");
          assertThat(spring.getCache("bokos")).as("a misspelt name is not a new cache").isNull();
          io.cachet.CacheManager cachet = context.getBean(io.cachet.CacheManager.class);
          assertThat(cachet.getCache("books").config().backend()).isEqualTo("local");
          assertThat(cachet.getCache("authors").config().maximumSize()).as("declared under cachet.caches").isEqualTo(7);
          spring.getCache("books").put("1", new Book("1", "t"));
          assertThat(spring.getCache("books").get("1", Book.class)).isEqualTo(new Book("1", "t"));
        });
  }

  @Test
  void cacheManagerCustomizers_thatApplyToTheManager_runInOrder_andOthersDoNot() {
    runner.withUserConfiguration(Customizers.class)
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(Customizers.class).ran).containsExactly("any manager", "cachet manager");
          CacheManager spring = context.getBean(CacheManager.class);
          assertThat(spring.getCacheNames()).as("created by a customizer").containsExactly("customized");
          assertThat(spring.getCache("other")).as("the customizer made the dynamic manager static").isNull();
        });
  }

  @Test
  void withoutBootsCacheSupport_theManagerStartsWithoutCustomizing() {
    runner.withClassLoader(new FilteredClassLoader("org.springframework.boot.cache."))
        .withUserConfiguration(Customizers.class)
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(Customizers.class).ran).as("not looked for").isEmpty();
          assertThat(context.getBean(CacheManager.class).getCache("anything")).isNotNull();
        });
  }

  @Test
  void springCacheNames_withCachetDynamicTrue_stillCreateUnknownNames() {
    runner.withPropertyValues("spring.cache.cache-names=books", "cachet.dynamic=true")
        .run(context -> assertThat(context.getBean(CacheManager.class).getCache("other")).isNotNull());
  }

  @Test
  void negativeMaximumSize_failsStartUpNamingTheProperty() {
    runner.withPropertyValues("cachet.caches.books.maximum-size=-1").run(context ->
        assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.books.maximum-size")
            .hasMessageContaining("maximumSize must be >= 0, was -1"));
  }

  @Test
  void optionsThatDoNotGoTogether_failStartUpNamingTheCache() {
    runner.withPropertyValues("cachet.caches.books.refresh-after-write=10m", "cachet.caches.books.expire-after-write=5m")
        .run(context -> assertThat(startupFailure(context))
            .isInstanceOf(org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException.class)
            .hasMessageContaining("cachet.caches.books")
            .hasMessageContaining("refreshAfterWrite"));
  }

  @Test
  void cacheConfigBeansAlone_declareTheCaches_soAnUnknownNameIsNotCreated() {
    runner.withUserConfiguration(ConfigBean.class).run(context -> {
      CacheManager spring = context.getBean(CacheManager.class);
      assertThat(spring.getCache("typed")).isNotNull();
      assertThat(spring.getCache("typo")).as("a cache for an undeclared name").isNull();
    });
  }

  @Test
  void unknownCodec_failsStartUpNamingTheProperty() {
    runner.withPropertyValues("cachet.caches.books.value-codec=json:com.example.Missing").run(context ->
        assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.books.value-codec")
            .hasMessageContaining("valueCodec must name a class on the class path, was 'com.example.Missing'"));
  }

  @Test
  void misspelledCacheOption_failsStartUpNamingTheProperty() {
    runner.withPropertyValues("cachet.caches.books.maximum-sise=5").run(context ->
        assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.books.maximum-sise")
            .hasMessageContaining("unknown option 'maximum-sise' of cache 'books'")
            .hasMessageContaining("maximum-size"));
  }

  @Test
  void misspelledCacheOptionInAnEnvironmentVariable_failsStartUp() {
    runner.withInitializer(context -> context.getEnvironment().getPropertySources().addFirst(
            new SystemEnvironmentPropertySource("test-systemEnvironment", Map.of(
                "CACHET_CACHES_BOOKS_MAXIMUMSIZE", "7",
                "CACHET_CACHES_BOOKS_EXPIREAFTERWRIT", "30s"))))
        .run(context -> assertThat(startupFailure(context)).hasMessageContaining("cachet.caches.books.expireafterwrit"));
  }

  @Test
  void cacheOptionsInEnvironmentVariablesWithUnderscoresBetweenWords_bindAndStartUp() {
    runner.withInitializer(context -> context.getEnvironment().getPropertySources().addFirst(
            new SystemEnvironmentPropertySource("test-systemEnvironment", Map.of(
                "CACHET_CACHES_BOOKS_MAXIMUM_SIZE", "7",
                "CACHET_CACHES_BOOKS_EXPIRE_AFTER_WRITE", "30s"))))
        .run(context -> {
          assertThat(context).hasNotFailed();
          io.cachet.Cache<?, ?> books = context.getBean(io.cachet.CacheManager.class).getCache("books");
          assertThat(books.config().maximumSize()).isEqualTo(7);
          assertThat(books.config().expireAfterWrite()).contains(java.time.Duration.ofSeconds(30));
        });
  }

  @Test
  void everyCacheOptionAndOtherCachetProperties_startUp() {
    runner.withPropertyValues(
            "cachet.caches[shop.books].backend=local",
            "cachet.caches[shop.books].maximum-size=5",
            "cachet.caches[shop.books].eviction-policy=lru",
            "cachet.caches[shop.books].expire-after-write=10m",
            "cachet.caches[shop.books].refresh-after-write=1m",
            "cachet.caches[shop.books].record-stats=false",
            "cachet.caches[shop.books].key-type=java.lang.Object",
            "cachet.caches[shop.books].value-codec=json:" + Book.class.getName(),
            "cachet.caches[shop.books].allow-null-values=false",
            "cachet.caches.idle.expire-after-access=5m",
            "cachet.caches.idle.per-entry-ttl=false",
            "cachet.caches.idle.key-codec=string",
            "cachet.caches.idle.value-type=java.lang.String",
            "cachet.caches.idle.maximumSize=3",
            "cachet.testkit.servers=processes",
            "cachet.jcache.default.backend=local")
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(io.cachet.CacheManager.class).cacheNames()).containsExactlyInAnyOrder("shop.books", "idle");
        });
  }

  @Test
  void unknownRedisOption_failsStartUpNamingTheProperty() {
    runner.withPropertyValues("cachet.caches.s.backend=redis", "cachet.caches.s.redis.adress=127.0.0.1:1")
        .run(context -> assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.s.redis.adress")
            .hasMessageContaining("unknown redis option 'adress'"));
  }

  @Test
  void invalidRedisOptionValue_failsStartUpNamingTheProperty() {
    runner.withPropertyValues("cachet.caches.s.backend=redis", "cachet.caches.s.redis.command-timeout=soon")
        .run(context -> assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.s.redis.command-timeout")
            .hasMessageContaining("soon"));
  }

  @Test
  void backendOptionsOfAnotherBackend_failStartUp() {
    runner.withPropertyValues("cachet.caches.s.redis.address=127.0.0.1:1")
        .run(context -> assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.s.redis.address")
            .hasMessageContaining("the cache uses backend 'local', not 'redis'"));
  }

  @Test
  void unknownBackend_failsStartUpNamingTheProperty() {
    runner.withPropertyValues("cachet.caches.s.backend=memcached")
        .run(context -> assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.s.backend")
            .hasMessageContaining("backend 'memcached' is not on the class path"));
  }

  @Test
  void typeWithoutCodecOnRemoteBackend_failsStartUpNamingTheProperty() {
    runner.withPropertyValues("cachet.caches.s.backend=redis", "cachet.caches.s.value-type=" + Book.class.getName())
        .run(context -> assertThat(startupFailure(context))
            .hasMessageContaining("cachet.caches.s.value-type")
            .hasMessageContaining("set value-codec instead, such as json:io.cachet.spring.boot.Book"));
  }

  @Test
  void environmentVariables_bindWithRelaxedNames() {
    runner.withInitializer(context -> context.getEnvironment().getPropertySources().addFirst(
            new SystemEnvironmentPropertySource("test-systemEnvironment", Map.of(
                "CACHET_CACHES_BOOKS_MAXIMUMSIZE", "7",
                "CACHET_CACHES_BOOKS_EVICTIONPOLICY", "lru",
                "CACHET_CACHES_BOOKS_EXPIREAFTERWRITE", "30s"))))
        .run(context -> {
          CacheConfig<?, ?> config = context.getBean(io.cachet.CacheManager.class).getCache("books").config();
          assertThat(config.maximumSize()).isEqualTo(7);
          assertThat(config.evictionPolicy()).isEqualTo(io.cachet.EvictionPolicy.LRU);
          assertThat(config.expireAfterWrite()).contains(java.time.Duration.ofSeconds(30));
        });
  }

  @Test
  void backendOptionNames_matchEveryRelaxedForm() {
    Set<String> known = Set.of("keyPrefix", "nearCacheMaxAge");

    assertThat(CacheDeclarations.camel("key-prefix", known)).isEqualTo("keyPrefix");
    assertThat(CacheDeclarations.camel("keyprefix", known)).isEqualTo("keyPrefix");
    assertThat(CacheDeclarations.camel("near_cache_max_age", known)).isEqualTo("nearCacheMaxAge");
    assertThat(CacheDeclarations.camel("some-new-option", known)).isEqualTo("someNewOption");
    assertThat(CacheDeclarations.kebab("nearCacheMaxAge")).isEqualTo("near-cache-max-age");
  }

  @Test
  void jsonValueCodec_typesTheCacheAndRefusesOtherValues() {
    runner.withPropertyValues("cachet.caches.books.value-codec=json:" + Book.class.getName())
        .run(context -> {
          org.springframework.cache.Cache books = context.getBean(CacheManager.class).getCache("books");
          books.put("1", new Book("1", "t"));
          assertThat(books.get("1", Book.class)).isEqualTo(new Book("1", "t"));
          org.assertj.core.api.Assertions.assertThatThrownBy(() -> books.put("2", "not a book"))
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessage("cache 'books' holds io.cachet.spring.boot.Book values, was given a java.lang.String for key '2'");
          assertThat(books.get("2")).isNull();
        });
  }

  @Test
  void allowNullValuesOff_refusesNullAsSpringDoes() {
    runner.withPropertyValues("cachet.caches.books.allow-null-values=false").run(context -> {
      org.springframework.cache.Cache books = context.getBean(CacheManager.class).getCache("books");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> books.put("1", null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("null");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> books.get("1", () -> null))
          .isInstanceOf(org.springframework.cache.Cache.ValueRetrievalException.class)
          .cause().isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
      assertThat(books.get("1")).isNull();
    });
  }

  @Test
  void cacheConfigBean_isCreatedAndServed() {
    runner.withUserConfiguration(ConfigBean.class).run(context -> {
      assertThat(context.getBean(io.cachet.CacheManager.class).getCache("typed").config().valueType())
          .isEqualTo(Object.class);
      org.springframework.cache.Cache typed = context.getBean(CacheManager.class).getCache("typed");
      typed.put("k", new Book("k", "t"));
      assertThat(typed.get("k", Book.class)).isEqualTo(new Book("k", "t"));
    });
  }

  @Test
  void cacheConfigBeanWithARemovalListener_isCreatedAndTellsTheListener() {
    List<String> removed = new CopyOnWriteArrayList<>();
    runner.withBean("listened", CacheConfig.class, () -> CacheConfig.builder("listened")
            .valueCodec(Codecs.json(Book.class))
            .executor(Runnable::run)
            .removalListener((key, value, cause) -> removed.add(key + "=" + value.title() + ":" + cause))
            .build())
        .run(context -> {
          assertThat(context).hasNotFailed();
          org.springframework.cache.Cache listened = context.getBean(CacheManager.class).getCache("listened");
          listened.put("k", new Book("k", "t"));
          listened.put("n", null);
          listened.evict("k");
          listened.evict("n");
          assertThat(removed).containsExactly("k=t:EXPLICIT");
        });
  }

  @Test
  void healthIndicator_isOnByDefault_andOffWhenDisabled() {
    runner.run(context -> assertThat(context).hasSingleBean(CachetHealthIndicator.class));
    runner.withPropertyValues("management.health.cachet.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(CachetHealthIndicator.class));
    runner.withPropertyValues("management.health.defaults.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(CachetHealthIndicator.class));
    runner.withClassLoader(new FilteredClassLoader("org.springframework.boot.health"))
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(CachetHealthIndicator.class));
  }

  @Test
  void metadata_describesTheProperties() throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(json).contains("\"cachet.caches\"", "\"cachet.allow-null-values\"", "\"cachet.dynamic\"");
    }
  }

  private static Throwable startupFailure(AssertableApplicationContext context) {
    assertThat(context).hasFailed();
    Throwable failure = context.getStartupFailure();
    Throwable cause = failure;
    while (cause != null && !(cause instanceof InvalidConfigurationPropertyValueException)) {
      cause = cause.getCause();
    }
    assertThat(cause).as("an InvalidConfigurationPropertyValueException in %s", failure).isNotNull();
    return cause;
  }

  /** An application's own Spring manager over Cachet, under a name of its choosing. */
  @Configuration(proxyBeanMethods = false)
  static class OrdersCacheManager {
    @Bean
    CachetCacheManager ordersCacheManager(io.cachet.CacheManager cachet) {
      CachetCacheManager spring = new CachetCacheManager(cachet, false);
      spring.create(CacheConfig.builder("orders").keyType(Object.class).valueType(Object.class).build());
      return spring;
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnCacheManager {
    @Bean
    CacheManager cacheManager() {
      return new ConcurrentMapCacheManager();
    }
  }

  /** Customizers of three manager types, one of which is not Cachet's. */
  @Configuration(proxyBeanMethods = false)
  static class Customizers {
    final List<String> ran = new CopyOnWriteArrayList<>();

    @Bean
    @org.springframework.core.annotation.Order(2)
    CacheManagerCustomizer<CachetCacheManager> cachetCustomizer() {
      return manager -> {
        ran.add("cachet manager");
        manager.create(CacheConfig.builder("customized").keyType(Object.class).valueType(Object.class).build());
        manager.setDynamic(null);
      };
    }

    @Bean
    @org.springframework.core.annotation.Order(1)
    CacheManagerCustomizer<CacheManager> anyCustomizer() {
      return manager -> ran.add("any manager");
    }

    @Bean
    CacheManagerCustomizer<ConcurrentMapCacheManager> otherCustomizer() {
      return manager -> ran.add("another manager");
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class ConfigBean {
    @Bean
    CacheConfig<String, Book> typed() {
      return CacheConfig.builder("typed").valueCodec(Codecs.json(Book.class)).build();
    }
  }
}
