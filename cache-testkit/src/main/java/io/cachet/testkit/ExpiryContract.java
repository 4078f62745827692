package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The expiry part of the backend contract: expireAfterWrite, per-entry TTLs, {@code expire} and
 * expireAfterAccess, on the time the contract test lets pass.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface ExpiryContract extends ContractTopic {

  @Test
  default void expireAfterWrite_entryExpiresAtItsDeadline() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit().multipliedBy(2)));
    cache.put("k", "v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isEqualTo("v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void expireAfterWrite_rewriteRestartsTheClock() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit().multipliedBy(2)));
    cache.put("k", "v1");
    contract().elapse(contract().ttlUnit());
    cache.put("k", "v2");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isEqualTo("v2");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void expireAfterWrite_readsDoNotExtendLife() {
    // Read at 1 and 2 units into a 3-unit life: were reads to extend it (as access expiry does),
    // the entry would live until 5 units; written at 0, it must be gone at 3.
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit().multipliedBy(3)));
    cache.put("k", "v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isEqualTo("v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isEqualTo("v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void putWithTtl_shorterThanGlobal_expiresAtItsOwnDeadline() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit().multipliedBy(10)));
    cache.put("short", "v", contract().ttlUnit());
    cache.put("long", "v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("short")).isNull();
    assertThat(cache.get("long")).isEqualTo("v");
  }

  @Test
  default void putWithTtl_longerThanGlobal_outlivesGlobal() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit()));
    cache.put("k", "v", contract().ttlUnit().multipliedBy(3));
    contract().elapse(contract().ttlUnit().multipliedBy(2));
    assertThat(cache.get("k")).isEqualTo("v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void putWithoutTtl_afterPutWithTtl_usesGlobalExpiryAgain() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit().multipliedBy(3)));
    cache.put("k", "v1", contract().ttlUnit());
    cache.put("k", "v2");
    contract().elapse(contract().ttlUnit().multipliedBy(2));
    assertThat(cache.get("k")).isEqualTo("v2");
  }

  @Test
  default void expire_liveEntry_changesRemainingTime() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    assertThat(cache.expire("k", contract().ttlUnit())).isTrue();
    assertThat(cache.get("k")).isEqualTo("v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void expire_canExtendLife() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit()));
    cache.put("k", "v");
    assertThat(cache.expire("k", contract().ttlUnit().multipliedBy(3))).isTrue();
    contract().elapse(contract().ttlUnit().multipliedBy(2));
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  default void expire_zero_expiresNow() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    assertThat(cache.expire("k", Duration.ZERO)).isTrue();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void expire_absentKey_returnsFalse() {
    Cache<String, String> cache = contract().newCache();
    assertThat(cache.expire("k", contract().ttlUnit())).isFalse();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void expire_expiredKey_returnsFalse() {
    Cache<String, String> cache = contract().newCache(b -> b.expireAfterWrite(contract().ttlUnit()));
    cache.put("k", "v");
    contract().elapse(contract().ttlUnit());
    assertThat(cache.expire("k", contract().ttlUnit())).isFalse();
  }

  @Test
  default void putWithTtl_zeroOrNegative_throwsNamingTtl() {
    Cache<String, String> cache = contract().newCache();
    assertThatThrownBy(() -> cache.put("k", "v", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl must be > 0, was PT0S");
    assertThatThrownBy(() -> cache.put("k", "v", Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl must be > 0, was PT-1S");
    assertThat(cache.get("k")).isNull();
  }

  @Test
  default void expire_negative_throwsNamingTtl() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    assertThatThrownBy(() -> cache.expire("k", Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl must be >= 0, was PT-0.005S");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  default void perEntryTtlDisabled_ttlOperationsThrowIllegalState() {
    Cache<String, String> cache = contract().newCache(b -> b.perEntryTtl(false));
    cache.put("k", "v");
    assertThatThrownBy(() -> cache.put("k", "other", contract().ttlUnit()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("perEntryTtl(false)");
    assertThatThrownBy(() -> cache.expire("k", contract().ttlUnit()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("perEntryTtl(false)");
    assertThat(cache.get("k")).isEqualTo("v");
  }

  /**
   * {@code expireAfterAccess} either works (a read keeps an entry alive, idleness expires it) or
   * is refused when the cache is created, naming the option; never accepted and ignored.
   */
  @Test
  default void expireAfterAccess_worksOrIsRefusedAtCreation() {
    Duration idle = contract().ttlUnit().multipliedBy(2);
    Throwable refused = catchThrowable(() -> contract().newCache(b -> b.expireAfterAccess(idle)));
    if (refused != null) {
      assertThat(refused).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expireAfterAccess");
      return;
    }
    Cache<String, String> cache = contract().manager.getCache(
        contract().manager.cacheNames().iterator().next(), String.class, String.class);
    cache.put("read", "1");
    cache.put("idle", "2");
    for (int i = 0; i < 3; i++) {
      contract().elapse(contract().ttlUnit());
      assertThat(cache.get("read")).isEqualTo("1");
    }
    assertThat(cache.get("idle")).isNull();
    contract().elapse(idle.plus(contract().ttlUnit()));
    assertThat(cache.get("read")).isNull();
  }

  @Test
  default void expireAfterAccess_withPerEntryTtlAskedFor_refusedAtBuild() {
    assertThatThrownBy(() -> CacheConfig.builder("x").perEntryTtl(true).expireAfterAccess(Duration.ofMinutes(1)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("expireAfterAccess does not combine with per-entry TTLs");
  }
}
