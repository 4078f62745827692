package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The rounds that confirm each partition caught up: one partition's trouble holds up no other's view. */
final class CatchUpRoundsTest {

  private final FakeTicker ticker = new FakeTicker();
  private final ViewAge viewAge = new ViewAge(ticker, 2);
  private final long[] positions = new long[2];
  /** The requests for end offsets made so far, answered by the test. */
  private final List<BiConsumer<Integer, Long>> asked = new ArrayList<>();
  private final CatchUpRounds rounds =
      new CatchUpRounds(viewAge, p -> positions[p], asked::add, Duration.ofSeconds(5).toNanos());

  @Test
  void aPartitionThatNeverReachesItsEnd_holdsUpNoOtherPartitionsConfirmation() {
    viewAge.allCaughtUpAsOf(ticker.read()); // the replay ended
    long worstAge = 0;
    for (int second = 0; second < 10 * 60; second++) {
      ticker.advance(Duration.ofSeconds(1));
      rounds.run();
      for (BiConsumer<Integer, Long> answer : asked) {
        answer.accept(0, positions[0]); // partition 0 is caught up
        answer.accept(1, positions[1] + 100); // partition 1 lags (its fetch is stuck)
      }
      asked.clear();
      rounds.run();
      worstAge = Math.max(worstAge, viewAge.ageNanos(0));
    }
    assertThat(Duration.ofNanos(worstAge)).as("partition 0's oldest view").isLessThanOrEqualTo(Duration.ofSeconds(31));
    assertThat(viewAge.fresh(0)).isTrue();
    assertThat(viewAge.fresh(1)).as("partition 1 never confirmed since the replay").isFalse();
  }

  @Test
  void aPartitionReachingItsEndAfterTheNextRoundStarted_isConfirmedAsOfTheEndItReached() {
    viewAge.allCaughtUpAsOf(ticker.read());
    ticker.advance(Duration.ofSeconds(30));
    rounds.run(); // first round, as of 30 s
    BiConsumer<Integer, Long> first = asked.remove(0);
    first.accept(0, 0L);
    first.accept(1, 10L);
    ticker.advance(Duration.ofSeconds(40));
    rounds.run(); // second round, as of 70 s: partition 1 still waits for offset 10
    asked.clear(); // unanswered yet

    positions[1] = 10;
    ticker.advance(Duration.ofSeconds(5));
    rounds.run();

    assertThat(Duration.ofNanos(viewAge.ageNanos(1))).as("confirmed as of the first round").isEqualTo(Duration.ofSeconds(45));
  }
}
