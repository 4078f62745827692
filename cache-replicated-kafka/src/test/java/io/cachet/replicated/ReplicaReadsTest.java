package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheNotReadyException;
import io.cachet.FakeTicker;
import io.cachet.codec.Codecs;
import io.cachet.spi.StatsCounter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A read that passed the readiness check just before a rebuild began emptying the replica must not
 * report the keys it no longer finds as absent: it fails as a read during the rebuild does. The
 * readiness check here lets the read through and then starts the rebuild's reset, which is the
 * interleaving the apply thread can produce between a reader's check and its lookup.
 */
final class ReplicaReadsTest {

  private final FakeTicker clock = new FakeTicker(Instant.ofEpochMilli(1_700_000_000_000L));
  private final StatsCounter stats = StatsCounter.concurrent();
  private final Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
  private boolean rebuildAfterCheck;
  private final ReplicaReads<String, String> reads = new ReplicaReads<>("c", "topic-c", replica, stats, clock, () -> {
    if (rebuildAfterCheck) {
      replica.reset();
    }
  });

  @BeforeEach
  void fill() {
    replica.restore("a", Entry.of("1", 0, 0, 0, 0, true, "node", 0));
    replica.restore("b", Entry.of("2", 0, 0, 1, 0, true, "node", 0));
  }

  @Test
  void noRebuild_readsAndCounts() {
    assertThat(reads.get("a", reads.begin())).isEqualTo("1");
    assertThat(reads.getAll(List.of("b", "x", "a"), reads.begin())).containsExactly(Map.entry("b", "2"),
        Map.entry("a", "1"));
    assertThat(stats.snapshot().hitCount()).isEqualTo(3);
    assertThat(stats.snapshot().missCount()).isEqualTo(1);
  }

  @Test
  void get_rebuildBeganAfterTheCheck_failsNotReady_insteadOfAMiss() {
    rebuildAfterCheck = true;
    long stamp = reads.begin();

    assertThatThrownBy(() -> reads.get("a", stamp)).isInstanceOf(CacheNotReadyException.class)
        .hasMessageContaining("cache 'c' began rebuilding its replica from topic 'topic-c'");
    assertThat(stats.snapshot().missCount()).as("misses counted").isZero();
  }

  @Test
  void getAllAndEntry_rebuildBeganAfterTheCheck_failNotReady() {
    rebuildAfterCheck = true;

    long stamp = reads.begin();
    assertThatThrownBy(() -> reads.getAll(List.of("a", "b"), stamp)).isInstanceOf(CacheNotReadyException.class);
    long another = reads.begin();
    assertThatThrownBy(() -> reads.entry("a", another)).isInstanceOf(CacheNotReadyException.class);
  }

  @Test
  void rebuildUnderWay_whenTheStampIsTaken_failsNotReady() {
    replica.reset(() -> {
      long stamp = reads.begin(); // the readiness check is what a real cache fails here; this one passes
      assertThatThrownBy(() -> reads.get("a", stamp)).isInstanceOf(CacheNotReadyException.class);
    });
  }

  @Test
  void valueThisNodeCannotDecode_failsTheRead_namingTheKey_insteadOfAnsweringAnotherValue() {
    replica.apply(0, 2, 0, "u".getBytes(java.nio.charset.StandardCharsets.UTF_8), new byte[] {(byte) 0xff},
        new RecordMeta(RecordMeta.Op.PUT, false, 0, 0, 1, 1, "newer").encode(), 0);

    assertThatThrownBy(() -> reads.get("u", reads.begin())).isInstanceOf(io.cachet.CacheException.class)
        .hasMessageContaining("cache 'c' cannot read key 'u'")
        .hasMessageContaining("codec");
    assertThatThrownBy(() -> reads.getAll(List.of("a", "u"), reads.begin()))
        .isInstanceOf(io.cachet.CacheException.class).hasMessageContaining("key 'u'");
    assertThat(reads.get("a", reads.begin())).isEqualTo("1");
  }
}
