package io.cachet.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.redis.RedissonCommands.KeyRead;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.redisson.client.RedisException;
import org.redisson.client.RedisTimeoutException;

final class ReadBatcherTest {

  private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(2);

  /** A batch the fake sender was asked to send, answered by the test. */
  private record Sent(List<String> keys, long deadline, CompletableFuture<List<KeyRead>> reply) {
    void answer() {
      List<KeyRead> reads = new ArrayList<>();
      for (String key : keys) {
        reads.add(new KeyRead(("v-" + key).getBytes(UTF_8), 1000L, null));
      }
      reply.complete(reads);
    }
  }

  private final AtomicLong now = new AtomicLong(1_000);
  private final List<Sent> sent = new ArrayList<>();
  private final ReadBatcher batcher = new ReadBatcher((keys, deadline) -> {
    List<String> names = new ArrayList<>();
    keys.forEach(k -> names.add(new String(k, UTF_8)));
    Sent batch = new Sent(names, deadline, new CompletableFuture<>());
    sent.add(batch);
    return batch.reply;
  }, TIMEOUT, now::get, ReadBatcherTest::failHere);

  /** Where the batcher fails a read that expired in the queue; recorded, then failed at once. */
  private static final List<Thread> FAILED_ON = new java.util.concurrent.CopyOnWriteArrayList<>();

  private static void failHere(CompletableFuture<?> read, Throwable error) {
    FAILED_ON.add(Thread.currentThread());
    read.completeExceptionally(error);
  }

  private CompletableFuture<RedisTransport.Read> read(String key) {
    return batcher.read(key.getBytes(UTF_8));
  }

  private static String value(CompletableFuture<RedisTransport.Read> read) {
    assertThat(read).isCompleted();
    return new String((byte[]) read.join().value(), UTF_8);
  }

  /** Fills every in-flight slot with a batch of one read. */
  private List<CompletableFuture<RedisTransport.Read>> saturate() {
    List<CompletableFuture<RedisTransport.Read>> first = new ArrayList<>();
    for (int i = 0; i < ReadBatcher.MAX_IN_FLIGHT; i++) {
      first.add(read("first" + i));
    }
    assertThat(sent).hasSize(ReadBatcher.MAX_IN_FLIGHT);
    return first;
  }

  @Test
  void read_alone_isSentAtOnceByItself() {
    CompletableFuture<RedisTransport.Read> read = read("k");

    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).keys()).containsExactly("k");
    assertThat(sent.get(0).deadline()).isEqualTo(1_000 + TIMEOUT);
    sent.get(0).answer();
    assertThat(value(read)).isEqualTo("v-k");
    assertThat(read.join().pttl()).isEqualTo(1000L);
    assertThat(batcher.batches()).isEqualTo(1);
    assertThat(batcher.reads()).isEqualTo(1);
  }

  @Test
  void read_whileEverySlotIsInFlight_waitsAndGoesOutWithTheOthersWhenOneCompletes() {
    List<CompletableFuture<RedisTransport.Read>> first = saturate();
    List<CompletableFuture<RedisTransport.Read>> waiting = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      waiting.add(read("w" + i));
    }
    assertThat(sent).as("nothing more is sent while every slot is taken").hasSize(ReadBatcher.MAX_IN_FLIGHT);
    assertThat(waiting).noneMatch(CompletableFuture::isDone);

    sent.get(0).answer();

    assertThat(value(first.get(0))).isEqualTo("v-first0");
    assertThat(sent).hasSize(ReadBatcher.MAX_IN_FLIGHT + 1);
    Sent batch = sent.get(ReadBatcher.MAX_IN_FLIGHT);
    assertThat(batch.keys()).containsExactly("w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9");
    batch.answer();
    for (int i = 0; i < 10; i++) {
      assertThat(value(waiting.get(i))).isEqualTo("v-w" + i);
    }
    assertThat(batcher.batches()).isEqualTo(ReadBatcher.MAX_IN_FLIGHT + 1);
    assertThat(batcher.reads()).isEqualTo(ReadBatcher.MAX_IN_FLIGHT + 10);
  }

  @Test
  void read_manyQueued_areSentInBatchesOfAtMostMaxBatch() {
    saturate();
    int queued = 2 * ReadBatcher.MAX_BATCH + 7;
    for (int i = 0; i < queued; i++) {
      read("q" + i);
    }
    sent.get(0).answer();
    sent.get(1).answer();
    sent.get(2).answer();

    List<Integer> sizes = sent.stream().skip(ReadBatcher.MAX_IN_FLIGHT).map(s -> s.keys().size()).toList();
    assertThat(sizes).containsExactly(ReadBatcher.MAX_BATCH, ReadBatcher.MAX_BATCH, 7);
  }

  @Test
  void read_errorForOneKey_failsThatReadOnly() throws Exception {
    CompletableFuture<RedisTransport.Read> alone = read("first");
    CompletableFuture<RedisTransport.Read> good = read("good");
    saturateRest();
    CompletableFuture<RedisTransport.Read> bad = read("bad");
    CompletableFuture<RedisTransport.Read> other = read("other");
    sent.get(0).answer();
    Sent batch = sent.get(ReadBatcher.MAX_IN_FLIGHT);
    assertThat(batch.keys()).containsExactly("bad", "other");
    RedisException wrongType = new RedisException("WRONGTYPE Operation against a key");
    batch.reply().complete(List.of(new KeyRead(null, null, wrongType), new KeyRead(null, -2L, null)));

    assertThatThrownBy(bad::get).isInstanceOf(ExecutionException.class).hasCause(wrongType);
    assertThat(other.get().value()).isNull();
    assertThat(other.get().pttl()).isEqualTo(-2L);
    assertThat(value(alone)).isEqualTo("v-first");
    assertThat(good).isNotDone();
  }

  /** Fills the slots left after two single reads. */
  private void saturateRest() {
    for (int i = 2; i < ReadBatcher.MAX_IN_FLIGHT; i++) {
      read("rest" + i);
    }
    assertThat(sent).hasSize(ReadBatcher.MAX_IN_FLIGHT);
  }

  @Test
  void read_batchFailsAsAWhole_failsEveryReadInIt_andTheNextBatchStillGoesOut() {
    saturate();
    CompletableFuture<RedisTransport.Read> a = read("a");
    CompletableFuture<RedisTransport.Read> b = read("b");
    sent.get(0).answer();
    RedisTimeoutException timeout = new RedisTimeoutException("no answer");
    sent.get(ReadBatcher.MAX_IN_FLIGHT).reply().completeExceptionally(timeout);

    assertThatThrownBy(a::join).hasCause(timeout);
    assertThatThrownBy(b::join).hasCause(timeout);
    CompletableFuture<RedisTransport.Read> c = read("c");
    assertThat(sent.get(sent.size() - 1).keys()).containsExactly("c");
    sent.get(sent.size() - 1).answer();
    assertThat(value(c)).isEqualTo("v-c");
  }

  @Test
  void read_senderThrows_failsTheBatchAndFreesItsSlot() {
    ReadBatcher throwing = new ReadBatcher((keys, deadline) -> {
      throw new IllegalStateException("client is shut down");
    }, TIMEOUT, now::get, ReadBatcherTest::failHere);
    for (int i = 0; i < ReadBatcher.MAX_IN_FLIGHT + 2; i++) {
      CompletableFuture<RedisTransport.Read> read = throwing.read(("k" + i).getBytes(UTF_8));
      assertThatThrownBy(read::join).hasCauseInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void read_stillQueuedAtItsDeadline_failsWithATimeoutWithoutBeingSent() {
    saturate();
    CompletableFuture<RedisTransport.Read> old = read("old");
    now.addAndGet(TIMEOUT / 2);
    CompletableFuture<RedisTransport.Read> newer = read("newer");
    now.addAndGet(TIMEOUT / 2);

    FAILED_ON.clear();
    sent.get(0).answer();

    assertThatThrownBy(old::join).hasCauseInstanceOf(TimeoutException.class);
    assertThat(FAILED_ON).as("failed through the batcher's failure hand-off (the completion pool)").hasSize(1);
    Sent batch = sent.get(ReadBatcher.MAX_IN_FLIGHT);
    assertThat(batch.keys()).as("only the read within its deadline").containsExactly("newer");
    assertThat(batch.deadline()).isEqualTo(1_000 + TIMEOUT / 2 + TIMEOUT);
    batch.answer();
    assertThat(value(newer)).isEqualTo("v-newer");
  }

  @Test
  void read_batchIsBoundedByItsOldestRead() {
    saturate();
    read("old");
    now.addAndGet(TIMEOUT / 4);
    read("newer");
    sent.get(0).answer();

    assertThat(sent.get(ReadBatcher.MAX_IN_FLIGHT).deadline()).isEqualTo(1_000 + TIMEOUT);
  }

  @Test
  void read_fromManyThreads_everyReadIsAnsweredAndAtMostMaxInFlightBatchesAreOut() throws Exception {
    java.util.concurrent.ExecutorService redis = java.util.concurrent.Executors.newFixedThreadPool(2);
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(4);
    java.util.concurrent.atomic.AtomicInteger out = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger mostOut = new java.util.concurrent.atomic.AtomicInteger();
    ReadBatcher concurrent = new ReadBatcher((keys, deadline) -> {
      mostOut.accumulateAndGet(out.incrementAndGet(), Math::max);
      return CompletableFuture.supplyAsync(() -> {
        List<KeyRead> reads = new ArrayList<>();
        keys.forEach(k -> reads.add(new KeyRead(k, 1L, null)));
        out.decrementAndGet();
        return reads;
      }, redis);
    }, TIMEOUT, System::nanoTime, ReadBatcherTest::failHere);
    try {
      List<java.util.concurrent.Future<List<CompletableFuture<RedisTransport.Read>>>> submitted = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        submitted.add(callers.submit(() -> {
          List<CompletableFuture<RedisTransport.Read>> mine = new ArrayList<>();
          for (int i = 0; i < 5_000; i++) {
            mine.add(concurrent.read((thread + ":" + i).getBytes(UTF_8)));
          }
          return mine;
        }));
      }
      for (int t = 0; t < 4; t++) {
        List<CompletableFuture<RedisTransport.Read>> mine = submitted.get(t).get(30, TimeUnit.SECONDS);
        for (int i = 0; i < mine.size(); i++) {
          assertThat(new String((byte[]) mine.get(i).get(30, TimeUnit.SECONDS).value(), UTF_8)).isEqualTo(t + ":" + i);
        }
      }
      assertThat(mostOut.get()).isLessThanOrEqualTo(ReadBatcher.MAX_IN_FLIGHT);
      assertThat(concurrent.reads()).isEqualTo(20_000);
    } finally {
      callers.shutdownNow();
      redis.shutdownNow();
    }
  }

  @Test
  void senderThrowingAnError_givesTheSlotBack_andFailsTheReads() {
    ReadBatcher failing = new ReadBatcher((keys, deadline) -> {
      throw new NoClassDefFoundError("relocated class missing");
    }, TIMEOUT, now::get, ReadBatcherTest::failHere);

    for (int round = 0; round < ReadBatcher.MAX_IN_FLIGHT * 3; round++) {
      CompletableFuture<RedisTransport.Read> read = failing.read(("k" + round).getBytes(UTF_8));
      assertThat(read).isCompletedExceptionally();
      assertThatThrownBy(read::join).hasRootCauseInstanceOf(NoClassDefFoundError.class);
    }
    assertThat(failing.batches()).isEqualTo(ReadBatcher.MAX_IN_FLIGHT * 3);
  }

  @Test
  void manyBatchesFailingSynchronously_areSentInALoop_notOneStackLevelEach() throws InterruptedException {
    List<CompletableFuture<List<KeyRead>>> held = new ArrayList<>();
    ReadBatcher batcher = new ReadBatcher((keys, deadline) -> {
      if (held.size() < ReadBatcher.MAX_IN_FLIGHT) {
        CompletableFuture<List<KeyRead>> reply = new CompletableFuture<>();
        held.add(reply);
        return reply;
      }
      return CompletableFuture.failedFuture(new RedisException("no connection"));
    }, TIMEOUT, now::get, ReadBatcherTest::failHere);
    List<CompletableFuture<RedisTransport.Read>> reads = new ArrayList<>();
    for (int i = 0; i < ReadBatcher.MAX_IN_FLIGHT; i++) {
      reads.add(batcher.read(("held" + i).getBytes(UTF_8)));
    }
    // Every slot is taken: these queue, then go out as 2,000 batches, each failing at once.
    int queued = ReadBatcher.MAX_BATCH * 2_000;
    for (int i = 0; i < queued; i++) {
      reads.add(batcher.read(("q" + i).getBytes(UTF_8)));
    }

    // On a small stack, one stack level per batch would overflow (and strand the rest).
    Thread completer = new Thread(null, () -> held.get(0).completeExceptionally(new RedisException("stalled")),
        "small-stack", 128 * 1024);
    completer.start();
    completer.join();

    assertThat(reads.subList(ReadBatcher.MAX_IN_FLIGHT, reads.size())).allMatch(CompletableFuture::isCompletedExceptionally);
    assertThat(batcher.reads()).isEqualTo(ReadBatcher.MAX_IN_FLIGHT + queued);
  }
}
