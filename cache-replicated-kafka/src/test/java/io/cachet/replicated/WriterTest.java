package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheNotReadyException;
import io.cachet.FakeTicker;
import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The write protocol: how a write reads the replica, retries a void record and fails, on a replica
 * fed by the test ({@link LocalLog}); no broker.
 */
final class WriterTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  /**
   * A conditional record (an anchor here) decided on a view must reach the log within 80% of the
   * tombstones' window from that view, or a tombstone it should lose to may be forgotten first.
   * The producer may hold a record for max.block.ms plus delivery.timeout.ms after it is handed
   * over (2.5 min with the longest write timeout), so the hand-over must end that much sooner.
   */
  @Test
  void conditionalRecord_isNotHandedOverLaterThanTheProducersOwnBoundsAllow() throws Exception {
    try (HeldSender held = new HeldSender()) {
      long producerBound = Duration.ofMinutes(2).plusSeconds(30).toNanos(); // max.block.ms + delivery.timeout.ms
      long limit = 2 * ViewAge.MAX_AGE_NANOS; // 8 of the window's 10 minutes
      AtomicReference<Exception> lateOutcome = new AtomicReference<>();
      assertThat(held.writer.send("late", RecordMeta.Op.ANCHOR, true, 0, "v", 0, lateOutcome::set)).isTrue();
      held.timer.advance(Duration.ofNanos(limit - producerBound + 1));
      held.viewAge.allCaughtUpAsOf(held.timer.read());
      assertThat(held.writer.send("fresh", RecordMeta.Op.PUT, false, 0, "v", 0, e -> { })).isTrue();
      held.sender.start();

      assertThat(held.sent.poll(5, TimeUnit.SECONDS)).as("the first record sent").isEqualTo("fresh");
      assertThat(held.sent).as("the anchor, dropped unsent").isEmpty();
      assertThat(lateOutcome.get()).as("what the anchor's sender is told").isSameAs(Sender.DROPPED);
    }
  }

  /**
   * A conditional write whose record waits to be sent past its view's limit, before its own
   * deadline: dropped unsent, so it fails at once as not sent, not at its deadline as a timeout
   * whose outcome the caller cannot know.
   */
  @Test
  void conditionalWrite_droppedUnsentForItsView_failsAtOnceAsNotSent() {
    try (HeldSender held = new HeldSender()) {
      held.timer.advance(Duration.ofMinutes(3).plusSeconds(54)); // a fresh view, nearly 4 minutes old
      CompletableFuture<Boolean> write = held.writer.write("k", RecordMeta.Op.PUT_IF_ABSENT,
          (live, now) -> new Writer.Decision<>(RecordMeta.Op.PUT_IF_ABSENT, true, "v", 0, applied -> true));
      // Its record may be handed over until 5.5 minutes after the view, 1.6 from now; its deadline
      // is 2 minutes from now.
      held.timer.advance(Duration.ofSeconds(100));
      held.sender.start();

      assertThat(write).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(CacheNotReadyException.class).withMessageContaining("it was not sent");
      assertThat(held.sent).isEmpty();
      assertThat(held.writer.waiting()).isZero();
    }
  }

  /**
   * A {@link Writer} with the longest write timeout, whose {@link Sender} the test starts (records
   * wait in its queue until then), on a view confirmed when it is made; the keys sent, in order.
   */
  private static final class HeldSender implements AutoCloseable {
    final FakeTicker timer = new FakeTicker();
    final ViewAge viewAge = new ViewAge(timer, 1);
    final BlockingQueue<String> sent = new LinkedBlockingQueue<>();
    final Sender sender;
    final Writer<String, String> writer;

    HeldSender() {
      viewAge.allCaughtUpAsOf(timer.read());
      ReplicationOptions options = ReplicationOptions.builder().bootstrapServers("127.0.0.1:1")
          .writeTimeout(ReplicationOptions.MAX_WRITE_TIMEOUT).build();
      MockProducer<byte[], byte[]> producer =
          new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
              sent.add(new String(record.key(), UTF_8));
              return super.send(record, callback);
            }
          };
      sender = new Sender("held", producer);
      Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
      writer = new Writer<>("held", options, Codecs.utf8(), Codecs.utf8(), timer, replica, 1, sender, () -> { },
          () -> null, timer, viewAge);
    }

    @Override
    public void close() {
      sender.close();
    }
  }

  @Test
  void write_voidOnEveryAttemptUntilItsDeadline_failsAsAConflictThatDidNotTakeEffect() {
    try (LocalLog log = new LocalLog()) {
      CompletableFuture<Boolean> write = log.writes.putIfAbsent("k", "mine");

      // Each of its records lands after another node's write of the key: void, retried.
      log.applyOther("k", "theirs-1", 0);
      assertThat(log.apply(log.nextSent()).valid()).isFalse();
      ProducerRecord<byte[], byte[]> retry = log.nextSent();
      log.clock.advance(ReplicationOptions.DEFAULT_WRITE_TIMEOUT);
      log.applyOther("k", "theirs-2", 0);
      assertThat(log.apply(retry).valid()).isFalse();

      assertThat(write).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
          .havingCause().isExactlyInstanceOf(WriteConflictException.class)
          .withMessageContaining("key 'k'").withMessageContaining("2 attempt(s)")
          .withMessageContaining("did not take effect");
      assertThat(log.replica.get("k").value()).isEqualTo("theirs-2");
      assertThat(log.writer.waiting()).as("nothing of it still on its way").isZero();
    }
  }

  @Test
  void voidRecord_whenTheDeadlineLeavesLessThanAnotherAttemptTakes_failsAsAConflictWithoutRetrying() {
    try (LocalLog log = new LocalLog()) {
      CompletableFuture<Boolean> write = log.writes.putIfAbsent("k", "mine");
      ProducerRecord<byte[], byte[]> first = log.nextSent();

      // The attempt takes all but 50 ms of the write timeout before its record comes back void:
      // a retry sent now (its back-off is 1-2 ms) would most likely end in a timeout, whose
      // outcome the caller cannot know.
      log.clock.advance(ReplicationOptions.DEFAULT_WRITE_TIMEOUT.minusMillis(50));
      log.applyOther("k", "theirs", 0);
      assertThat(log.apply(first).valid()).isFalse();

      assertThat(write).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
          .havingCause().isExactlyInstanceOf(WriteConflictException.class)
          .withMessageContaining("1 attempt(s)");
      assertThat(log.sentWithin(200)).as("no retry sent").isFalse();
      assertThat(log.writer.waiting()).isZero();
      assertThat(log.writer.retried()).isZero();
    }
  }

  @Test
  void voidRecord_withTimeForAnotherAttempt_retries() {
    try (LocalLog log = new LocalLog()) {
      CompletableFuture<Boolean> write = log.writes.putIfAbsent("k", "mine");
      ProducerRecord<byte[], byte[]> first = log.nextSent();

      log.clock.advance(Duration.ofSeconds(1)); // the attempt took 1 s of the 10 s
      log.applyOther("k", "theirs", 0);
      assertThat(log.apply(first).valid()).isFalse();

      ProducerRecord<byte[], byte[]> retry = log.nextSent();
      assertThat(log.writer.retried()).isEqualTo(1);
      assertThat(log.apply(retry).valid()).as("decided again on 'theirs'").isTrue();
      assertThat(write).succeedsWithin(WAIT).isEqualTo(false);
    }
  }

  @Test
  void retryBudget_isWhatTheLatestAttemptTook() {
    try (LocalLog log = new LocalLog()) {
      CompletableFuture<Boolean> write = log.writes.putIfAbsent("k", "mine");

      log.clock.advance(Duration.ofSeconds(1)); // the first attempt takes 1 s: 9 s left, retried
      log.applyOther("k", "theirs-1", 0);
      assertThat(log.apply(log.nextSent()).valid()).isFalse();
      ProducerRecord<byte[], byte[]> second = log.nextSent();

      log.clock.advance(Duration.ofSeconds(5)); // the second takes 5 s: 4 s left is not enough
      log.applyOther("k", "theirs-2", 0);
      assertThat(log.apply(second).valid()).isFalse();

      assertThat(write).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
          .havingCause().isExactlyInstanceOf(WriteConflictException.class)
          .withMessageContaining("2 attempt(s)");
      assertThat(log.sentWithin(200)).as("no third attempt").isFalse();
      assertThat(log.writer.retried()).isEqualTo(1);
    }
  }

  @Test
  void retry_failingWithAnError_failsTheWrite() {
    AtomicBoolean failing = new AtomicBoolean();
    Codec<String> keys = TestCodecs.utf8(key -> {
      if (failing.get()) {
        throw new CodecError(); // as user code may, on the delay scheduler's thread, which swallows it
      }
    }, bytes -> { });
    try (LocalLog log = new LocalLog(10_000, true, keys)) {
      CompletableFuture<Boolean> write = log.writes.putIfAbsent("k", "mine");
      ProducerRecord<byte[], byte[]> first = log.nextSent();

      log.applyOther("k", "theirs", 0);
      failing.set(true);
      assertThat(log.apply(first).valid()).isFalse();

      assertThat(write).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(CodecError.class);
    }
  }

  private static final class CodecError extends Error {
    private static final long serialVersionUID = 1L;
  }

  @Test
  void write_whileTheReplicaIsReset_failsWithoutDecidingOnAHalfResetReplica() {
    try (LocalLog log = new LocalLog()) {
      log.applyOther("k", "present", 0);
      AtomicReference<CompletableFuture<Boolean>> during = new AtomicReference<>();

      // A retry on the delay scheduler, or a write that passed the readiness check just before
      // the rebuild began, runs while the apply thread empties the replica.
      log.replica.reset(() -> during.set(log.writes.putIfAbsent("k", "mine")));

      assertThat(during.get()).as("failed at once, nothing sent").isCompletedExceptionally();
      assertThat(during.get()).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(CacheNotReadyException.class);
      assertThat(log.writer.waiting()).isZero();
    }
  }

  @Test
  void retry_onceTheCacheTakesNoWrites_failsWithoutSendingAnotherRecord() {
    try (LocalLog log = new LocalLog()) {
      CompletableFuture<Boolean> write = log.writes.putIfAbsent("k", "mine");
      ProducerRecord<byte[], byte[]> first = log.nextSent();

      log.applyOther("k", "theirs", 0);
      log.writable = false; // a rebuild began: the replica is emptied and replays the log
      assertThat(log.apply(first).valid()).isFalse();

      assertThat(write).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(CacheNotReadyException.class);
      assertThat(log.writer.waiting()).isZero();
    }
  }

  @Test
  void keyWhoseValueThisNodeCannotDecode_refusesWritesThatDependOnIt_andRestatesItsBytes() throws Exception {
    try (LocalLog log = new LocalLog()) {
      byte[] newer = {(byte) 0xff, 0x01}; // not UTF-8: a value from a node with another codec
      RecordMeta meta = new RecordMeta(RecordMeta.Op.PUT, false, 0, 0, 42, 1, "other");
      log.replica.apply(0, 0, log.clock.millis(), "k".getBytes(java.nio.charset.StandardCharsets.UTF_8), newer,
          meta.encode(), log.clock.millis());

      for (CompletableFuture<Boolean> dependent : List.of(log.writes.putIfAbsent("k", "x"),
          log.writes.replace("k", "x"), log.writes.replace("k", "a", "b"), log.writes.remove("k", "a"))) {
        assertThatThrownBy(() -> dependent.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
            .hasCauseInstanceOf(io.cachet.CacheException.class)
            .hasMessageContaining("cannot decide")
            .hasMessageContaining("key 'k'");
      }
      assertThat(log.sentWithin(100)).as("nothing sent for them").isFalse();

      CompletableFuture<Boolean> expire = log.writes.expire("k", Duration.ofMinutes(5));
      ProducerRecord<byte[], byte[]> restated = log.nextSent();
      assertThat(restated.value()).as("the bytes as written, not re-encoded").containsExactly(newer);
      assertThat(log.apply(restated).valid()).isTrue();
      assertThat(expire.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

      CompletableFuture<Void> put = log.writes.put("k", "mine", null);
      log.apply(log.nextSent());
      put.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(log.replica.get("k").value()).isEqualTo("mine");
    }
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"}) // the replica holds an Unreadable in place of a String
  void anchorOfAKeyWhoseValueThisNodeCannotDecode_restatesTheBytesAsWritten() {
    try (LocalLog log = new LocalLog()) {
      byte[] newer = {(byte) 0xff, 0x02};
      long now = log.clock.millis();
      byte[] key = "k".getBytes(UTF_8);
      log.replica.apply(0, 0, now, key, newer, new RecordMeta(RecordMeta.Op.PUT, false, 0, 0, 42, 1, "other").encode(),
          now);
      // A stale conditional record: void, it leaves the key unanchored with the value it had.
      log.replica.apply(0, 1, now, key, UTF_8.encode("x").array(),
          new RecordMeta(RecordMeta.Op.REPLACE, true, -1, 0, 42, 2, "other").encode(), now);
      Entry<Object> unanchored = (Entry) log.replica.unanchored().get("k");
      assertThat(Unreadable.is(unanchored.value())).isTrue();

      ((Writer) log.writer).send("k", RecordMeta.Op.ANCHOR, true, unanchored.offset(), unanchored.value(), 0,
          error -> { });
      ProducerRecord<byte[], byte[]> anchor = log.nextSent();
      assertThat(anchor.value()).containsExactly(newer);
      assertThat(log.apply(anchor).valid()).isTrue();
      assertThat(log.replica.unanchored()).isEmpty();
    }
  }
}
