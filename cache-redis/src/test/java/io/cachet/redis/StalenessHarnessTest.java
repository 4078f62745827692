package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The staleness checker itself: it must fail a run whose marked phases saw nothing to check. */
final class StalenessHarnessTest {

  @Test
  void currentReadsInEveryPhase_pass() throws Exception {
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.<String, String>builder("h").build());
      try (StalenessHarness harness = new StalenessHarness("", cache::put)) {
        harness.phase("first");
        harness.start(cache);
        harness.runFor(Duration.ofMillis(700));
        harness.phase("second", "k1"::equals);
        harness.runFor(Duration.ofMillis(700));
        assertThatCode(harness::stopAndVerify).doesNotThrowAnyException();
      }
    }
  }

  @Test
  void phaseWithoutAcknowledgedWrites_fails() throws Exception {
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.<String, String>builder("h").build());
      AtomicBoolean failing = new AtomicBoolean();
      StalenessHarness.Writes writes = (key, value) -> {
        if (failing.get()) {
          throw new IllegalStateException("down");
        }
        cache.put(key, value);
      };
      try (StalenessHarness harness = new StalenessHarness("", writes)) {
        harness.phase("healthy");
        harness.start(cache);
        harness.runFor(Duration.ofMillis(700));
        failing.set(true);
        harness.phase("every write fails");
        harness.runFor(Duration.ofMillis(700));
        assertThatThrownBy(harness::stopAndVerify)
            .isInstanceOf(AssertionError.class)
            .hasMessageContaining("acknowledged writes in phase 'every write fails'");
      }
    }
  }

  @Test
  void staleRead_fails() throws Exception {
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.<String, String>builder("h").build());
      // The first write of each key reaches the cache, later ones never do: reads go stale.
      StalenessHarness.Writes writes = cache::putIfAbsent;
      try (StalenessHarness harness = new StalenessHarness("", writes)) {
        harness.start(cache);
        harness.runFor(Duration.ofMillis(700));
        assertThatThrownBy(harness::stopAndVerify)
            .isInstanceOf(AssertionError.class)
            .hasMessageContaining("returned an older value");
      }
    }
  }
}
