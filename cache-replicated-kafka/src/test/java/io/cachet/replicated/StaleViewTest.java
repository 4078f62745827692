package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.CacheNotReadyException;
import io.cachet.replicated.RecordMeta.Op;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Replicas forget a tombstone ten minutes of record time after it was written, and take a
 * conditional record on a key they hold nothing for as valid. A node whose view of the log is
 * older than that (paused, frozen, or cut off from Kafka while it still serves) must therefore not
 * decide conditional records on it: one naming a record that a forgotten tombstone replaced would
 * bring the removed value back on every node.
 */
final class StaleViewTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final Duration PAST_MAX_AGE = Duration.ofNanos(ViewAge.MAX_AGE_NANOS).plusSeconds(1);

  @Test
  void theRecordAStaleViewWouldSend_wouldRestoreAKeyRemovedAndForgotten() {
    // Why the rule exists: the apply rule alone cannot tell.
    try (LocalLog log = new LocalLog()) {
      log.applyOther("k", "old", 0);
      long oldOffset = log.replica.get("k").offset();
      log.applyOther("k", null, 0); // removed
      log.clock.advance(Duration.ofMillis(Replica.FORGET_TOMBSTONES_AFTER_MS).plusSeconds(1));
      log.applyOther("other", "x", 0); // a later record: the tombstone of k is forgotten
      assertThat(log.replica.get("k")).isNull();

      RecordMeta stale = new RecordMeta(Op.PUT_IF_ABSENT, true, oldOffset, 0, 7, 1, "paused-node");
      log.replica.apply(0, log.replica.position(0), log.clock.millis(), "k".getBytes(), "old".getBytes(),
          stale.encode(), log.clock.millis());
      assertThat(log.replica.get("k").value()).as("applied as valid").isEqualTo("old");
    }
  }

  @Test
  void conditionalWrites_onAViewOlderThanItsBound_failNotReady_andSendNothing() {
    try (LocalLog log = new LocalLog()) {
      log.applyOther("k", "v", 0);
      log.clock.advance(PAST_MAX_AGE);

      List<Supplier<CompletableFuture<?>>> writes = List.of(
          () -> log.writes.putIfAbsent("k", "new"),
          () -> log.writes.replace("k", "new"),
          () -> log.writes.replace("k", "v", "new"),
          () -> log.writes.remove("k", "v"),
          () -> log.writes.storeLoaded("absent", "loaded"));
      for (Supplier<CompletableFuture<?>> write : writes) {
        assertThat(write.get()).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
            .withCauseInstanceOf(CacheNotReadyException.class)
            .withMessageContaining("was last confirmed caught up with");
      }
      assertThat(log.sentWithin(200)).as("a record sent").isFalse();
      assertThat(log.writer.send("k", Op.ANCHOR, true, 0, "v", 0, error -> { })).as("an anchor queued").isFalse();
      assertThat(log.sentWithin(200)).as("a record sent").isFalse();
    }
  }

  @Test
  void unconditionalWrites_onAStaleView_stillGo_andAConfirmedViewTakesConditionalOnesAgain() {
    try (LocalLog log = new LocalLog()) {
      log.clock.advance(PAST_MAX_AGE);
      CompletableFuture<Void> put = log.writes.put("k", "v", null);
      log.apply(log.nextSent());
      assertThat(put).succeedsWithin(WAIT);

      log.viewAge.caughtUpAsOf(0, log.clock.read());
      CompletableFuture<Boolean> replaced = log.writes.replace("k", "v", "w");
      log.apply(log.nextSent());
      assertThat(replaced).succeedsWithin(WAIT).isEqualTo(true);
    }
  }
}
