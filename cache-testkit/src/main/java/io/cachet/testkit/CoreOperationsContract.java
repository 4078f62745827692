package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The map operations of the backend contract: reads, writes, conditional writes and the async view.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface CoreOperationsContract extends ContractTopic {

  @Test
  default void get_missing_returnsNull() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.get("absent")).isNull();
  }

  @Test
  default void put_thenGet_returnsValue() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  default void put_existingKey_replacesValue() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v1");
    cache.put("k", "v2");
    assertThat(cache.get("k")).isEqualTo("v2");
  }

  @Test
  default void getAll_returnsOnlyPresentKeys() {
    Cache<String, String> cache = contract().newCache();
    cache.put("a", "1");
    cache.put("c", "3");
    assertThat(cache.getAll(List.of("a", "b", "c"))).containsExactlyInAnyOrderEntriesOf(Map.of("a", "1", "c", "3"));
  }

  @Test
  default void putAll_storesEveryEntry() {
    Cache<String, String> cache = contract().newCache();
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("a", "1");
    entries.put("b", "2");
    cache.putAll(entries);
    assertThat(cache.get("a")).isEqualTo("1");
    assertThat(cache.get("b")).isEqualTo("2");
  }

  @Test
  default void clear_removesEveryEntry() {
    Cache<String, String> cache = contract().newCache();
    cache.put("a", "1");
    cache.put("b", "2");
    cache.clear();
    assertThat(cache.get("a")).isNull();
    assertThat(cache.get("b")).isNull();
    assertThat(cache.estimatedSize()).isZero();
  }

  @Test
  default void name_isTheConfiguredName() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.name()).isEqualTo(cache.config().name());
    assertThat(contract().manager.getCache(cache.name(), String.class, String.class)).isSameAs(cache);
  }

  @Test
  default void putIfAbsent_absentKey_storesAndReturnsTrue() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.putIfAbsent("k", "v")).isTrue();
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  default void putIfAbsent_presentKey_keepsExistingAndReturnsFalse() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "old");
    assertThat(cache.putIfAbsent("k", "new")).isFalse();
    assertThat(cache.get("k")).isEqualTo("old");
  }

  @Test
  default void putIfAbsent_expiredKey_stores() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit()));
    cache.put("k", "old");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.putIfAbsent("k", "new")).isTrue();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  default void replace_presentKey_replaces() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "old");
    assertThat(cache.replace("k", "new")).isTrue();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  default void replace_absentKey_storesNothing() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.replace("k", "new")).isFalse();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void replaceCompareAndSet_matchingValue_replaces() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "old");
    assertThat(cache.replace("k", "old", "new")).isTrue();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  default void replaceCompareAndSet_otherValue_keepsCurrent() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "current");
    assertThat(cache.replace("k", "stale", "new")).isFalse();
    assertThat(cache.get("k")).isEqualTo("current");
  }

  @Test
  default void replaceCompareAndSet_absentKey_storesNothing() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.replace("k", "old", "new")).isFalse();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void remove_presentKey_removesAndReturnsTrue() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    assertThat(cache.remove("k")).isTrue();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void remove_absentKey_returnsFalse() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.remove("k")).isFalse();
  }

  @Test
  default void removeConditional_matchingValue_removes() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    assertThat(cache.remove("k", "v")).isTrue();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void removeConditional_otherValue_keepsEntry() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    assertThat(cache.remove("k", "other")).isFalse();
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  default void async_roundTrip() throws Exception {
    Cache<String, String> cache = contract().newCache();
    AsyncCache<String, String> async = cache.async();
    async.put("k", "v").toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(async.get("k").toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo("v");
    assertThat(async.putIfAbsent("k", "x").toCompletableFuture().get(30, TimeUnit.SECONDS)).isFalse();
    assertThat(async.replace("k", "v", "w").toCompletableFuture().get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(async.getAll(List.of("k", "absent")).toCompletableFuture().get(30, TimeUnit.SECONDS))
        .containsExactlyEntriesOf(Map.of("k", "w"));
    assertThat(async.remove("k").toCompletableFuture().get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(cache.get("k")).isNull();
    assertThat(async.sync()).isSameAs(cache);
  }
}
