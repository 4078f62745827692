package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.annotation.CacheDefaults;
import javax.cache.annotation.CacheKey;
import javax.cache.annotation.CachePut;
import javax.cache.annotation.CacheRemove;
import javax.cache.annotation.CacheRemoveAll;
import javax.cache.annotation.CacheResult;
import javax.cache.annotation.CacheValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Annotation caching through a JDK proxy, without a DI container. */
final class CachetAnnotationsTest {

  private final CacheManager manager =
      Caching.getCachingProvider()
          .getCacheManager(URI.create("urn:cachet:test:annotations"), getClass().getClassLoader());

  @AfterEach
  void closeManager() {
    manager.close();
  }

  interface Directory {
    String find(String id);

    String find(String tenant, String id);

    void save(String id, String name);

    void forget(String id);

    void forgetAll();

    String failing(String id);
  }

  @CacheDefaults(cacheName = "directory")
  static final class DatabaseDirectory implements Directory {
    final AtomicInteger finds = new AtomicInteger();
    final AtomicInteger failures = new AtomicInteger();

    @Override
    @CacheResult
    public String find(String id) {
      finds.incrementAndGet();
      return "name of " + id;
    }

    @Override
    @CacheResult(cacheName = "by-tenant")
    public String find(String tenant, @CacheKey String id) {
      finds.incrementAndGet();
      return tenant + "/" + id;
    }

    @Override
    @CachePut
    public void save(String id, @CacheValue String name) {}

    @Override
    @CacheRemove
    public void forget(String id) {}

    @Override
    @CacheRemoveAll
    public void forgetAll() {}

    @Override
    @CacheResult(cacheName = "failing", exceptionCacheName = "failing-errors")
    public String failing(String id) {
      failures.incrementAndGet();
      throw new IllegalStateException("no " + id);
    }
  }

  @Test
  void cacheResult_calledTwice_runsTheBodyOnce() {
    DatabaseDirectory target = new DatabaseDirectory();
    Directory directory = CachetAnnotations.proxy(Directory.class, target, manager);

    assertThat(directory.find("42")).isEqualTo("name of 42");
    assertThat(directory.find("42")).isEqualTo("name of 42");

    assertThat(target.finds).hasValue(1);
    assertThat(manager.getCache("directory").iterator().next().getValue()).isEqualTo("name of 42");
  }

  @Test
  void cacheResult_withCacheKey_keysOnThoseParametersOnly() {
    DatabaseDirectory target = new DatabaseDirectory();
    Directory directory = CachetAnnotations.proxy(Directory.class, target, manager);

    directory.find("acme", "7");

    assertThat(directory.find("other tenant", "7")).isEqualTo("acme/7");
    assertThat(target.finds).hasValue(1);
  }

  @Test
  void cachePutAndRemove_changeWhatCacheResultReturns() {
    DatabaseDirectory target = new DatabaseDirectory();
    Directory directory = CachetAnnotations.proxy(Directory.class, target, manager);

    directory.save("42", "Ada");
    assertThat(directory.find("42")).isEqualTo("Ada");

    directory.forget("42");
    assertThat(directory.find("42")).isEqualTo("name of 42");

    directory.forgetAll();
    directory.find("42");
    assertThat(target.finds).hasValue(2);
  }

  @Test
  void cacheResult_withExceptionCache_rethrowsTheCachedException() {
    DatabaseDirectory target = new DatabaseDirectory();
    Directory directory = CachetAnnotations.proxy(Directory.class, target, manager);

    assertThatThrownBy(() -> directory.failing("x")).hasMessage("no x");
    assertThatThrownBy(() -> directory.failing("x")).hasMessage("no x");

    assertThat(target.failures).hasValue(1);
  }

  interface Accounts {
    void save(String id, String value);

    void forget(String id);
  }

  /** Fails with {@link #failure} (if set) after the body, to exercise the exception filters. */
  static final class FailingAccounts implements Accounts {
    volatile RuntimeException failure;

    @Override
    @CachePut(cacheName = "accounts", noCacheFor = IllegalArgumentException.class)
    public void save(String id, @CacheValue String value) {
      fail();
    }

    @Override
    @CacheRemove(cacheName = "accounts", noEvictFor = IllegalArgumentException.class)
    public void forget(String id) {
      fail();
    }

    private void fail() {
      RuntimeException e = failure;
      if (e != null) {
        throw e;
      }
    }
  }

  private static CachetAnnotations.GeneratedKey key(String id) {
    return new CachetAnnotations.GeneratedKey(new Object[] {id});
  }

  @Test
  void cachePut_withOnlyAnExcludeList_cachesOnEveryOtherException() {
    FailingAccounts target = new FailingAccounts();
    Accounts accounts = CachetAnnotations.proxy(Accounts.class, target, manager);

    target.failure = new IllegalStateException("not excluded");
    assertThatThrownBy(() -> accounts.save("1", "cached")).isSameAs(target.failure);
    target.failure = new IllegalArgumentException("excluded");
    assertThatThrownBy(() -> accounts.save("2", "not cached")).isSameAs(target.failure);

    assertThat(manager.getCache("accounts").get(key("1"))).isEqualTo("cached");
    assertThat(manager.getCache("accounts").containsKey(key("2"))).isFalse();
  }

  @Test
  void cacheRemove_withOnlyAnExcludeList_evictsOnEveryOtherException() {
    FailingAccounts target = new FailingAccounts();
    Accounts accounts = CachetAnnotations.proxy(Accounts.class, target, manager);
    accounts.save("1", "a");
    accounts.save("2", "b");

    target.failure = new IllegalStateException("not excluded");
    assertThatThrownBy(() -> accounts.forget("1")).isSameAs(target.failure);
    target.failure = new IllegalArgumentException("excluded");
    assertThatThrownBy(() -> accounts.forget("2")).isSameAs(target.failure);

    assertThat(manager.getCache("accounts").containsKey(key("1"))).isFalse();
    assertThat(manager.getCache("accounts").get(key("2"))).isEqualTo("b");
  }

  @Test
  void objectMethods_goToTheTarget() {
    DatabaseDirectory target = new DatabaseDirectory();
    Directory directory = CachetAnnotations.proxy(Directory.class, target, manager);

    assertThat(directory.toString()).isEqualTo(target.toString());
  }

  @Test
  void proxy_ofAClass_throwsIllegalArgumentException() {
    assertThatThrownBy(() -> CachetAnnotations.proxy(DatabaseDirectory.class, new DatabaseDirectory(), manager))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an interface");
  }
}
