package io.cachet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

final class FakeTickerTest {

  @Test
  void advance_movesTickerAndClockTogether() {
    FakeTicker ticker = new FakeTicker(Instant.parse("2030-01-01T00:00:00Z"));
    ticker.advance(Duration.ofSeconds(90)).advanceNanos(5);
    assertThat(ticker.read()).isEqualTo(90_000_000_005L);
    assertThat(ticker.instant()).isEqualTo(Instant.parse("2030-01-01T00:01:30.000000005Z"));
  }

  @Test
  void advance_negative_rejected() {
    FakeTicker ticker = new FakeTicker();
    assertThatThrownBy(() -> ticker.advance(Duration.ofNanos(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration must be >= 0, was PT-0.000000001S");
    assertThatThrownBy(() -> ticker.advanceNanos(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nanoseconds must be >= 0, was -1");
    assertThat(ticker.read()).isZero();
  }
}
