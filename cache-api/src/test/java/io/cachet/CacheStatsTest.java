package io.cachet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class CacheStatsTest {

  @Test
  void rates_withAndWithoutRequests() {
    assertThat(CacheStats.empty().hitRate()).isEqualTo(1.0);
    assertThat(CacheStats.empty().missRate()).isZero();
    CacheStats stats = new CacheStats(3, 1, 0, 2, 2, 400, 0);
    assertThat(stats.requestCount()).isEqualTo(4);
    assertThat(stats.hitRate()).isEqualTo(0.75);
    assertThat(stats.missRate()).isEqualTo(0.25);
    assertThat(stats.averageLoadPenaltyNanos()).isEqualTo(100.0);
  }

  @Test
  void minusAndPlus() {
    CacheStats a = new CacheStats(5, 5, 5, 5, 5, 5, 5);
    CacheStats b = new CacheStats(1, 2, 3, 4, 5, 6, 7);
    assertThat(a.minus(b)).isEqualTo(new CacheStats(4, 3, 2, 1, 0, 0, 0));
    assertThat(a.plus(b)).isEqualTo(new CacheStats(6, 7, 8, 9, 10, 11, 12));
    assertThat(new CacheStats(Long.MAX_VALUE, 0, 0, 0, 0, 0, 0).plus(a).hitCount()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void negativeCounter_rejectedNamingIt() {
    assertThatThrownBy(() -> new CacheStats(0, -1, 0, 0, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("missCount must be >= 0, was -1");
  }
}
