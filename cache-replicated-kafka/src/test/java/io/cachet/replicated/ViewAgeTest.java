package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.FakeTicker;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Each partition's view ages on its own: one Kafka cannot confirm holds up none of the others. */
final class ViewAgeTest {

  private final FakeTicker ticker = new FakeTicker();
  private final ViewAge age = new ViewAge(ticker, 2);

  @Test
  void neverConfirmed_isNotFresh() {
    assertThat(age.fresh(0)).isFalse();
    assertThat(age.fresh(1)).isFalse();
  }

  @Test
  void partitionsAge_independently_andAnEarlierConfirmationMovesNothingBack() {
    age.allCaughtUpAsOf(ticker.read());
    ticker.advance(Duration.ofMinutes(3));
    age.caughtUpAsOf(0, ticker.read()); // partition 1 has no leader: no end offset for it
    age.caughtUpAsOf(0, ticker.read() - Duration.ofMinutes(2).toNanos()); // a late, older answer
    ticker.advance(Duration.ofMinutes(2));

    assertThat(age.fresh(0)).isTrue();
    assertThat(age.ageNanos(0)).isEqualTo(Duration.ofMinutes(2).toNanos());
    assertThat(age.fresh(1)).as("five minutes unconfirmed").isFalse();
  }

  @Test
  void oldestAge_isTheLeastRecentlyConfirmedPartitions_aPartitionNeverConfirmedCountingFromTheStart() {
    ticker.advance(Duration.ofHours(1)); // the cache starts an hour after the ticker's origin
    ViewAge started = new ViewAge(ticker, 2);
    ticker.advance(Duration.ofSeconds(10));
    started.caughtUpAsOf(0, ticker.read());
    ticker.advance(Duration.ofSeconds(5));

    assertThat(started.ageNanos(0)).isEqualTo(Duration.ofSeconds(5).toNanos());
    assertThat(started.ageNanos(1)).as("never confirmed").isEqualTo(Duration.ofSeconds(15).toNanos());
    assertThat(started.oldestAgeNanos()).isEqualTo(Duration.ofSeconds(15).toNanos());

    started.caughtUpAsOf(1, ticker.read());
    assertThat(started.oldestAgeNanos()).isEqualTo(Duration.ofSeconds(5).toNanos());
  }
}
