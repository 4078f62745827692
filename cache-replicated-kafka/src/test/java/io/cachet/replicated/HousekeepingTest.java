package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.codec.Codecs;
import io.cachet.replicated.RecordMeta.Op;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Anchors are retried until one is in the log, and the age of the oldest unanchored void record is
 * exported and warned about. Time is the {@code now} passed to each run; sends are recorded by a
 * fake sender whose failures the test reports, as the producer's thread would.
 */
final class HousekeepingTest {

  private static final long RETRY_MS = 40_000;

  private final Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
  private final List<Sent> sent = new ArrayList<>();
  private boolean refuse;
  /** What the sender throws, as a codec that refuses a key or value throws while the record is made. */
  private @Nullable RuntimeException codecRefusal;
  private Housekeeping<String, String> housekeeping;

  private record Sent(String key, Op op, long expected, @Nullable String value, Consumer<@Nullable Exception> onDone) {}

  @BeforeEach
  void setUp() {
    RecordSender<String, String> sender = (key, op, conditional, expected, value, deadline, onDone) -> {
      if (codecRefusal != null) {
        throw codecRefusal;
      }
      if (refuse) {
        return false;
      }
      sent.add(new Sent(key, op, expected, value, onDone));
      return true;
    };
    SnapshotStore<String, String> snapshots = new SnapshotStore<>("hk", ReplicationOptions.defaults(),
        new TopicSetup.TopicInfo(1, 86_400_000L, "id"), Codecs.utf8(), Codecs.utf8(), InstantSource.system(), () -> 0);
    housekeeping = new Housekeeping<>("hk", "me", replica, sender, snapshots, RETRY_MS);
  }

  @Test
  void anchor_sendFails_isSentAgainUntilOneLands() {
    long t0 = 1_000_000;
    leaveVoid("k", t0);

    housekeeping.run(t0 + Housekeeping.OWN_ANCHOR_DELAY_MS);
    assertThat(anchors()).hasSize(1);
    assertThat(anchors().get(0).expected()).isEqualTo(1);
    assertThat(anchors().get(0).value()).isEqualTo("winner");

    // The brokers were down: the producer reports the failure.
    anchors().get(0).onDone().accept(new RuntimeException("delivery timed out"));
    housekeeping.run(t0 + 3_000);
    assertThat(anchors()).as("not before the back-off").hasSize(1);
    housekeeping.run(t0 + 3_000 + Housekeeping.FAILED_ANCHOR_BACKOFF_MS);
    assertThat(anchors()).as("sent again").hasSize(2);
    assertThat(housekeeping.anchorsFailed()).isEqualTo(1);

    // Its fate unknown (no acknowledgement, no failure): sent again after the retry interval.
    housekeeping.run(t0 + 4_000 + RETRY_MS - 500);
    assertThat(anchors()).hasSize(2);
    housekeeping.run(t0 + 4_000 + RETRY_MS);
    assertThat(anchors()).hasSize(3);

    // Not even queued (queue full, closing): retried after the back-off.
    refuse = true;
    housekeeping.run(t0 + 4_000 + 2 * RETRY_MS);
    refuse = false;
    housekeeping.run(t0 + 4_000 + 2 * RETRY_MS + Housekeeping.FAILED_ANCHOR_BACKOFF_MS);
    assertThat(anchors()).hasSize(4);

    // One lands: acknowledged, then applied; the key is anchored, nothing more is sent.
    anchors().get(3).onDone().accept(null);
    assertThat(housekeeping.anchors()).as("anchors that reached the log").isEqualTo(1);
    apply(2, "k", "winner", Op.ANCHOR, true, 1, t0 + 100_000);
    housekeeping.run(t0 + 10 * RETRY_MS);
    assertThat(anchors()).hasSize(4);
    assertThat(housekeeping.unanchoredKeys()).isZero();
    assertThat(housekeeping.oldestUnanchoredMillis()).isZero();
  }

  @Test
  void anchor_droppedUnsent_isNotCountedAsFailed_andIsSentAgainAtItsRetryTime() {
    long t0 = 1_000_000;
    leaveVoid("k", t0);
    housekeeping.run(t0 + Housekeeping.OWN_ANCHOR_DELAY_MS);
    assertThat(anchors()).hasSize(1);

    anchors().get(0).onDone().accept(Sender.DROPPED); // a backlog held it past its view's limit
    housekeeping.run(t0 + 3_000 + Housekeeping.FAILED_ANCHOR_BACKOFF_MS);
    assertThat(anchors()).as("not queued again a second later, behind the same backlog").hasSize(1);
    assertThat(housekeeping.anchorsFailed()).isZero();
    housekeeping.run(t0 + Housekeeping.OWN_ANCHOR_DELAY_MS + RETRY_MS);
    assertThat(anchors()).hasSize(2);
  }

  @Test
  void oldestUnanchored_exportedAndWarnedPastTheThreshold() {
    long t0 = 2_000_000;
    leaveVoid("k", t0);
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      housekeeping.run(t0 + 10_000);
      assertThat(housekeeping.unanchoredKeys()).isEqualTo(1);
      assertThat(housekeeping.oldestUnanchoredMillis()).isEqualTo(10_000);
      assertThat(logs.warnings()).isEmpty();

      housekeeping.run(t0 + Housekeeping.UNANCHORED_WARN_AFTER_MS + 1_000);
      assertThat(housekeeping.oldestUnanchoredMillis()).isEqualTo(Housekeeping.UNANCHORED_WARN_AFTER_MS + 1_000);
      assertThat(logs.warnings()).singleElement().asString()
          .contains("'hk'").contains("1 key(s)").contains("min.compaction.lag.ms").doesNotContain("winner");
      housekeeping.run(t0 + Housekeeping.UNANCHORED_WARN_AFTER_MS + 2_000);
      assertThat(logs.warnings()).as("at most once a minute").hasSize(1);
    }
  }

  @Test
  void manyEntriesExpiringTogether_areRemovedABoundedShareAtATime() {
    long t0 = 1_000_000;
    int keys = Housekeeping.MAX_EXPIRED_PER_RUN * 2 + 10;
    for (int i = 0; i < keys; i++) {
      RecordMeta meta = new RecordMeta(Op.PUT, false, 0, t0 + 1_000, 1, i, "me");
      replica.apply(0, i, t0, ("k" + i).getBytes(UTF_8), "v".getBytes(UTF_8), meta.encode(), t0);
    }
    long now = t0 + 1_000;
    for (int run = 1; run <= 3; run++) {
      housekeeping.run(now);
      long removals = sent.stream().filter(s -> s.op() == Op.EXPIRED).count();
      assertThat(removals).as("after run %d", run).isEqualTo(Math.min(keys, (long) run * Housekeeping.MAX_EXPIRED_PER_RUN));
      now += Housekeeping.HOUSEKEEPING_INTERVAL_MS;
    }
    assertThat(sent.stream().filter(s -> s.op() == Op.EXPIRED).map(Sent::key).distinct().count()).isEqualTo(keys);
  }

  @Test
  void expiredEntry_itsRemovalStillOnItsWay_isNotSentAgain_untilThatOneIsDone() {
    long t0 = 1_000_000;
    RecordMeta meta = new RecordMeta(Op.PUT, false, 0, t0 + 1_000, 1, 1, "me");
    replica.apply(0, 0, t0, "k".getBytes(UTF_8), "v".getBytes(UTF_8), meta.encode(), t0);

    housekeeping.run(t0 + 1_000);
    assertThat(removals()).hasSize(1);
    // A backlog holds the first removal: the entry comes due again, and again.
    housekeeping.run(t0 + 1_000 + Housekeeping.FALLBACK_DELAY_MS + 1);
    housekeeping.run(t0 + 1_000 + 2 * Housekeeping.FALLBACK_DELAY_MS + 2);
    assertThat(removals()).as("one removal on its way at a time").hasSize(1);

    // Dropped unsent (it could no longer reach the log in time): the next due run sends it again.
    removals().get(0).onDone().accept(Sender.DROPPED);
    housekeeping.run(t0 + 1_000 + 3 * Housekeeping.FALLBACK_DELAY_MS + 3);
    assertThat(removals()).hasSize(2);
    removals().get(1).onDone().accept(null);
    assertThat(housekeeping.expiredRemovals()).isEqualTo(1);
  }

  private List<Sent> removals() {
    return sent.stream().filter(s -> s.op() == Op.EXPIRED).toList();
  }

  @Test
  void manyUnanchoredKeys_areAnchoredABoundedShareAtATime() {
    long t0 = 1_000_000;
    int keys = Housekeeping.MAX_ANCHORS_PER_RUN + 10;
    for (int i = 0; i < keys; i++) {
      // A record without Cachet's metadata (another producer's): void, and so unanchored.
      replica.apply(0, i, t0, ("k" + i).getBytes(UTF_8), "v".getBytes(UTF_8), null, t0);
    }
    long now = t0 + Housekeeping.FALLBACK_DELAY_MS;
    housekeeping.run(now);
    assertThat(anchors()).as("first run").hasSize(Housekeeping.MAX_ANCHORS_PER_RUN);
    assertThat(housekeeping.unanchoredKeys()).isEqualTo(keys);
    housekeeping.run(now + Housekeeping.HOUSEKEEPING_INTERVAL_MS);
    assertThat(anchors().stream().map(Sent::key).distinct().count()).as("after the second run").isEqualTo(keys);
  }

  /**
   * Making a record fails in user code (the key or value codec refuses what it decoded, as a
   * stricter codec version may), for an anchor and for an expired entry's removal: the run goes on,
   * the anchor is counted as failed and sent again after the back-off (a removal after 30 s). On
   * the apply thread, the exception would have stopped the replica.
   */
  @Test
  void anchor_whoseRecordTheCodecRefuses_doesNotStopTheRun_andIsSentAgain() {
    long t0 = 1_000_000;
    leaveVoid("k", t0);
    // And a value of this node's that expires: its removal's record is refused the same way.
    RecordMeta expiring = new RecordMeta(Op.PUT, false, 0, t0 + 1_000, 1, 2, "me");
    replica.apply(0, 2, t0, "e".getBytes(UTF_8), "soon".getBytes(UTF_8), expiring.encode(), t0);
    codecRefusal = new IllegalArgumentException("value too long for this codec version");

    housekeeping.run(t0 + Housekeeping.OWN_ANCHOR_DELAY_MS);
    assertThat(housekeeping.anchorsFailed()).isEqualTo(1);
    assertThat(housekeeping.unanchoredKeys()).isEqualTo(1);

    codecRefusal = null;
    housekeeping.run(t0 + Housekeeping.OWN_ANCHOR_DELAY_MS + Housekeeping.FAILED_ANCHOR_BACKOFF_MS);
    assertThat(anchors()).as("sent once the codec takes it").hasSize(1);
  }

  /** Key {@code k}: "winner" put at offset 0, then a stale conditional "loser" at offset 1, void. */
  private void leaveVoid(String key, long now) {
    apply(0, key, "winner", Op.PUT, false, 0, now);
    apply(1, key, "loser", Op.PUT_IF_ABSENT, true, -1, now);
    assertThat(replica.get(key).anchored()).isFalse();
  }

  private void apply(long offset, String key, String value, Op op, boolean conditional, long expected, long now) {
    RecordMeta meta = new RecordMeta(op, conditional, expected, 0, 1, offset, "me");
    replica.apply(0, offset, now, key.getBytes(UTF_8), value.getBytes(UTF_8), meta.encode(), now);
  }

  private List<Sent> anchors() {
    return sent.stream().filter(s -> s.op() == Op.ANCHOR).toList();
  }
}
