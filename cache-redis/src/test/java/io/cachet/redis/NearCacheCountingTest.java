package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.CacheConfig;
import io.cachet.Ticker;
import io.cachet.codec.Codecs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The near cache's hit counts are derived from its stores' own counts; with entries that are
 * found but not served (stale after an epoch change), they must still never be negative nor go
 * back, however the counting threads interleave with a reader of the counts.
 */
final class NearCacheCountingTest {

  private static final int KEYS = 64;

  @Test
  void hitCounts_whileStaleEntriesAreFound_neverNegativeNorDecreasing() throws Exception {
    NearCache<String, String> near = new NearCache<>(
        CacheConfig.builder("counting").maximumSize(1_000).build(),
        RedisOptions.builder().address("redis://127.0.0.1:1").serveStaleOnError(true).build(),
        Codecs.utf8(), "p:".getBytes(StandardCharsets.UTF_8), true, Ticker.system());
    near.listener().up();
    for (int i = 0; i < KEYS; i++) {
      String key = "k" + i;
      NearLoad<String> load = near.newLoad();
      assertThat(near.register(key, load)).isNull();
      near.storeValue(key, load, "v" + i, null, Ticker.system().read());
      near.storeAbsent("absent" + i, near.newLoad(), Ticker.system().read());
      near.deregister(key, load);
    }
    assertThat(near.lookup("k0")).isNotNull();
    assertThat(near.lookupAbsent("absent0")).isTrue();
    assertThat(near.valueHits()).isEqualTo(1);
    assertThat(near.absentHits()).isEqualTo(1);

    // Tracking drops and comes back: serveStaleOnError keeps the entries, of an older epoch now.
    near.listener().down(new IllegalStateException("connection lost"));
    near.listener().up();

    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> readers = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Thread reader = new Thread(() -> {
        for (int i = 0; !stop.get(); i++) {
          assertThat(near.lookup("k" + (i % KEYS))).isNull(); // found in the store, not served
          assertThat(near.lookupAbsent("absent" + (i % KEYS))).isFalse();
        }
      }, "reader-" + t);
      reader.start();
      readers.add(reader);
    }
    long lastValues = 0;
    long lastAbsent = 0;
    List<String> violations = new ArrayList<>();
    long until = System.nanoTime() + 300_000_000L;
    while (System.nanoTime() - until < 0 && violations.isEmpty()) {
      long values = near.valueHits();
      long absent = near.absentHits();
      if (values < lastValues || absent < lastAbsent || values < 0 || absent < 0) {
        violations.add("value hits " + lastValues + " -> " + values + ", absent hits " + lastAbsent + " -> " + absent);
      }
      lastValues = values;
      lastAbsent = absent;
    }
    stop.set(true);
    for (Thread reader : readers) {
      reader.join();
    }
    assertThat(violations).isEmpty();
    // Every read since the epoch change was unserved: once the counts are quiet they are exact again.
    assertThat(near.valueHits()).isEqualTo(1);
    assertThat(near.absentHits()).isEqualTo(1);
    near.close();
    assertThat(near.valueHits()).isEqualTo(1); // the counts at close stand
  }
}
