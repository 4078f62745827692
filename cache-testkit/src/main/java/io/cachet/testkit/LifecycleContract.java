package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.Cache;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The lifecycle part of the backend contract: after {@code close()}, of the cache or of its
 * manager, every operation throws {@link IllegalStateException}.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface LifecycleContract extends ContractTopic {

  @Test
  default void close_everyOperationThenThrowsIllegalState() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    cache.close();
    assertThat(cache.isClosed()).isTrue();
    List<Executable> calls =
        List.of(
            () -> cache.get("k"),
            () -> cache.get("k", k -> "v"),
            () -> cache.getAll(List.of("k")),
            () -> cache.put("k", "v"),
            () -> cache.put("k", "v", contract().ttlUnit()),
            () -> cache.putAll(Map.of("k", "v")),
            () -> cache.putIfAbsent("k", "v"),
            () -> cache.replace("k", "v"),
            () -> cache.replace("k", "v", "w"),
            () -> cache.remove("k"),
            () -> cache.remove("k", "v"),
            () -> cache.expire("k", contract().ttlUnit()),
            cache::clear,
            cache::estimatedSize,
            cache::stats,
            cache::async);
    for (Executable call : calls) {
      assertThatThrownBy(call::execute).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
  }

  @Test
  default void close_isIdempotentAndForgetsTheCache() {
    Cache<String, String> cache = contract().newCache();
    String name = cache.name();
    cache.close();
    cache.close();
    assertThat(contract().manager.cacheNames()).doesNotContain(name);
    assertThat(contract().manager.getCache(name, String.class, String.class)).isNull();
    Cache<String, String> again = contract().manager.create(cache.config());
    assertThat(again.get("k")).isNull();
  }

  @Test
  default void managerClose_closesItsCaches() {
    Cache<String, String> cache = contract().newCache();
    contract().manager.close();
    assertThat(cache.isClosed()).isTrue();
    assertThatThrownBy(() -> cache.get("k")).isInstanceOf(IllegalStateException.class);
  }
}
