package io.cachet.replicated;

import io.cachet.CacheException;
import io.cachet.codec.Codec;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a cache's topic to its replica: owns the apply thread (and, through its {@link Fetcher},
 * the consumer and the fetch thread), replays the topic at start and tracks readiness, replay
 * progress and lag. Thread-safe: the getters read
 * volatile fields written by the apply thread.
 *
 * <p>The apply thread ({@code cachet-replica-<cache>}) does the start-up (assign, seek, end offsets,
 * snapshot check) on the consumer, then hands the consumer to the fetch thread
 * ({@code cachet-fetch-<cache>}, {@code Thread.start} publishes it), which polls and queues each
 * batch with the positions after it. The apply thread applies the batches in offset order, moves
 * the positions, completes this node's writes and read barriers, and runs the housekeeping. When
 * either thread fails, the replica stops: every waiting write and barrier fails and the cache no
 * longer changes.
 *
 * <p>Readiness after a pause: the apply thread stamps a heartbeat on every turn of its loop (at
 * least every 100 ms). A node whose apply thread has not turned for {@link #PAUSE_NANOS} (the
 * process was stopped, a long GC, a starved machine) is not ready, from any caller's view, at once;
 * when the apply thread runs again it sees the gap and stays not ready until the replica has
 * applied the topic up to end offsets fetched after the gap (a read barrier taken on the admin
 * client), since the consumer's last view of the end offsets is as old as the pause. Reads and
 * writes need only the start-up replay: they keep working while the node resynchronizes.
 */
final class Applier<K, V> {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);
  private static final long PROGRESS_LOG_INTERVAL_MS = 5_000;
  /**
   * How long the apply thread may go without a turn of its loop before the node counts as paused:
   * 1 s, ten times the 100 ms it waits for a batch.
   */
  static final long PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final String name;
  private final ReplicationOptions options;
  private final String topic;
  private final Codec<V> valueCodec;
  private final InstantSource clock;
  private final KafkaConsumer<Object, Object> consumer;
  private final List<TopicPartition> partitions;
  private final Replica<K, V> replica;
  private final SnapshotStore<K, V> snapshots;
  private final Writer<K, V> writer;
  private final ReadBarriers barriers;
  private final Housekeeping<K, V> housekeeping;
  private final AtomicBoolean closed;
  /** Owns the consumer once the start-up is done: the fetch thread. */
  private final Fetcher fetcher;
  /** Open once ready (or failed, or closed); closed again by a pause or a rebuild. */
  private final ReadyGate readyGate = new ReadyGate();
  private final Thread applier;
  // Written by the apply thread, read by any.
  /** The start-up replay (or a rebuild) has reached its target: reads and writes are served. */
  private volatile boolean ready;
  /** When the apply thread last turned its loop ({@code System.nanoTime}). */
  private volatile long heartbeatNanos;
  /** After a pause of the apply thread: not yet caught up with end offsets fetched after it. */
  private volatile boolean resyncing;
  /** A test holds both threads, as a stopped process would. */
  private volatile boolean heldForTest;
  private volatile long @Nullable [] endAtStart;
  private volatile long replayTarget = -1;
  private volatile long lagRecords;
  private volatile long lagMillis;
  private volatile @Nullable Throwable applierFailure;
  private final LongAdder replayed = new LongAdder();
  private final LongAdder rebuilds = new LongAdder();
  /** How long ago the replica was confirmed caught up: set when a replay ends, then by {@link CatchUpRounds}. */
  private final ViewAge viewAge;
  /** Confirms each partition caught up every 30 s once ready (apply thread). */
  private final CatchUpRounds catchUpRounds;
  /** For {@link #startReplay}: the end offsets' age is not known. */
  private static final long UNDATED = Long.MIN_VALUE;
  /** When a record whose value cannot be decoded here may be logged again (apply thread). */
  private long nextUnreadableWarning;
  static final long UNREADABLE_WARN_EVERY_MS = 60_000;
  /** The view-age reading taken before the current replay's end offsets were asked for. */
  private long replayEndsTakenAt;
  /** Whether {@link #replayEndsTakenAt} is known (not for a rebuild, whose ends the fetch thread took earlier). */
  private boolean replayEndsDated;

  // Apply thread only.
  private @Nullable CompletableFuture<Void> resync;
  private long nextProgressLog;
  private long replayStartedNanos;

  /** Creates the apply thread; {@link #start} starts it. {@code closed} is set once by the cache's {@code close()}. */
  Applier(String name, ReplicationOptions options, Codec<V> valueCodec, InstantSource clock,
      KafkaConsumer<Object, Object> consumer, List<TopicPartition> partitions, SnapshotStore<K, V> snapshots,
      Writer<K, V> writer, ReadBarriers barriers, Housekeeping<K, V> housekeeping, AtomicBoolean closed,
      Runnable topicCheck, String topicId, java.util.function.Supplier<@Nullable String> topicIdNow,
      ViewAge viewAge) {
    this.name = name;
    this.options = options;
    this.topic = options.topicFor(name);
    this.viewAge = viewAge;
    this.valueCodec = valueCodec;
    this.clock = clock;
    this.consumer = consumer;
    this.partitions = partitions;
    this.replica = snapshots.replica();
    this.snapshots = snapshots;
    this.writer = writer;
    this.barriers = barriers;
    this.catchUpRounds = new CatchUpRounds(viewAge, replica::position, barriers::endOffsets,
        options.writeTimeout().toNanos());
    this.housekeeping = housekeeping;
    this.closed = closed;
    this.fetcher = new Fetcher(name, options, consumer, partitions, closed,
        () -> closed.get() || applierFailure != null, this::fail, topicCheck, this::holdWhileTestAsks, topicId,
        topicIdNow);
    this.applier = new Thread(this::runApplier, "cachet-replica-" + name);
  }

  void start() {
    Threads.start(applier);
  }

  private void runApplier() {
    try {
      consumer.assign(partitions);
      long[] startPositions = snapshots.startPositions();
      boolean fromSnapshot = Arrays.stream(startPositions).anyMatch(position -> position > 0);
      long endsAsOf = viewAge.now(); // before asking: the replay's end is at least this recent
      long[] ends = fetcher.offsets(true);
      long[] starts = fetcher.offsets(false);
      if (ends == null || starts == null) {
        return;
      }
      // Only now: the lookups above fetched each partition's leader and its epoch, without which
      // the consumer would not check a position's epoch against the log.
      seek(startPositions);
      if (fromSnapshot && !snapshots.fits(partitions, starts, ends)) {
        replica.reset();
        consumer.seekToBeginning(partitions);
      } else if (fromSnapshot) {
        Map<TopicPartition, Long> diverged = fetcher.diverged();
        if (diverged == null) {
          return;
        }
        if (!diverged.isEmpty()) {
          LOG.warn("Cache '{}' (node {}): the log of topic '{}' was cut back below the snapshot's position and"
                  + " written again since (an unclean leader election, or a broker that lost records); it parts"
                  + " from what the snapshot applied at {} (-1: unknown where). Replaying the topic from the"
                  + " beginning instead", name, options.nodeId(), topic, diverged);
          replica.reset();
          consumer.seekToBeginning(partitions);
        }
      }
      startReplay(starts, ends, endsAsOf);
      LOG.info("Cache '{}' (node {}) replaying topic '{}': {} record(s) to apply", name, options.nodeId(),
          topic, replayTarget);
      heartbeatNanos = System.nanoTime();
      checkReady();
      // From here the fetch thread owns the consumer: parsing fetched batches overlaps with
      // applying the previous ones (measured: most of a replay is this thread's CPU).
      fetcher.start();
      while (!closed.get() && applierFailure == null) {
        holdWhileTestAsks();
        Fetcher.Fetched batch = fetcher.next(100);
        if (batch == Fetcher.STOP) {
          break;
        }
        beat();
        long now = clock.millis();
        if (batch != null && batch.rebuild() != null) {
          rebuild(batch.rebuild());
        } else if (batch != null) {
          for (ConsumerRecord<Object, Object> record : batch.records()) {
            applyRecord(record, now);
          }
          replayed.add(batch.records().count());
          for (TopicPartition tp : partitions) {
            replica.advance(tp.partition(), batch.positions()[tp.partition()]);
          }
          updateLag(batch, now);
        }
        checkReady();
        barriers.check();
        checkResync();
        if (ready) {
          catchUpRounds.run();
          housekeeping.run(now, this::beat); // a long snapshot save keeps the heartbeat going
        }
      }
    } catch (WakeupException | InterruptedException e) {
      if (!closed.get()) {
        fail(e);
      }
    } catch (Throwable t) {
      if (!closed.get()) {
        fail(t);
      }
    } finally {
      if (closed.get() && ready && applierFailure == null) {
        snapshots.save();
      } else {
        snapshots.awaitSaved();
      }
      if (!fetcher.started()) {
        fetcher.closeConsumer();
      }
    }
  }

  /**
   * Seeks each partition to its position in the snapshot, with the leader epoch of the last record
   * the snapshot applied there when known, so that the consumer checks that the log still holds
   * that record where the snapshot saw it ({@link Fetcher#diverged}); to the log's start without one.
   */
  private void seek(long[] startPositions) {
    for (TopicPartition tp : partitions) {
      long position = startPositions[tp.partition()];
      int epoch = replica.leaderEpoch(tp.partition());
      if (position > 0 && epoch >= 0) {
        consumer.seek(tp, new OffsetAndMetadata(position, Optional.of(epoch), ""));
      } else if (position > 0) {
        consumer.seek(tp, position);
      } else {
        // The log may start above 0 (deleted records, retention); auto.offset.reset is "none".
        consumer.seekToBeginning(List.of(tp));
      }
    }
  }

  /** Sets the replay's target: from the replica's positions (moved up to the log's start) to {@code ends}. */
  private void startReplay(long[] starts, long[] ends, long endsAsOf) {
    long target = 0;
    for (int p = 0; p < ends.length; p++) {
      replica.advance(p, starts[p]);
      target += Math.max(0, ends[p] - replica.position(p));
    }
    // The log holds at most this many keys; offsets count every write since the log began (compaction
    // leaves gaps, it does not move the start), so this can be far more than needed: capped.
    replica.presize(target);
    endAtStart = ends;
    replayEndsTakenAt = endsAsOf;
    replayEndsDated = endsAsOf != UNDATED;
    replayTarget = target;
    replayStartedNanos = System.nanoTime();
    nextProgressLog = 0;
  }

  /**
   * The consumer's positions left the log (the topic was deleted and recreated, records were deleted,
   * or retention passed a lagging node): the replica may hold what the log no longer has, and
   * replaying on top of it would move reads back in time. So it is emptied and rebuilt from the
   * log's start, not ready until it has caught up (apply thread).
   */
  private void rebuild(Fetcher.Rebuild rebuild) {
    readyGate.close();
    releaseIfFailed();
    ready = false;
    rebuilds.increment();
    long[] reached = new long[partitions.size()];
    for (int p = 0; p < reached.length; p++) {
      reached[p] = replica.position(p);
    }
    if (rebuild.newTopicId() != null) {
      // Whichever check found it: snapshots saved from here on carry the id of the log replayed.
      snapshots.topicId(rebuild.newTopicId());
    }
    if (rebuild.newTopicId() != null && rebuild.outOfRange().isEmpty()) {
      LOG.error("Cache '{}' (node {}): topic '{}' was deleted and recreated (its id is now {}; this replica had"
              + " reached {}; the new log spans {} to {}). The replica may hold values the new log does not have:"
              + " it is emptied and rebuilt from the start of the log, and is not ready until it has caught up"
              + " (rebuild {})", name, options.nodeId(), topic, rebuild.newTopicId(), Arrays.toString(reached),
          Arrays.toString(rebuild.starts()), Arrays.toString(rebuild.ends()), rebuilds.sum());
    } else {
      String cause = rebuild.newTopicId() != null
          ? "the topic was deleted and recreated (its id is now " + rebuild.newTopicId() + ")"
          : "the topic was deleted and recreated, or its log was truncated (an unclean leader election,"
              + " deleted records)";
      LOG.error("Cache '{}' (node {}): its positions in topic '{}' are no longer in the log (out of range: {};"
              + " this replica had reached {}; the log now spans {} to {}): {}. The replica may hold"
              + " values the log no longer has: it is emptied and rebuilt from the start of the log, and is not"
              + " ready until it has caught up (rebuild {})", name, options.nodeId(), topic, rebuild.outOfRange(),
          Arrays.toString(reached), Arrays.toString(rebuild.starts()), Arrays.toString(rebuild.ends()), cause,
          rebuilds.sum());
    }
    replica.reset();
    replayed.reset();
    startReplay(rebuild.starts(), rebuild.ends(), UNDATED); // confirmed by the next round instead
    checkReady();
  }

  private void applyRecord(ConsumerRecord<Object, Object> record, long now) {
    replica.leaderEpoch(record.partition(), record.leaderEpoch().orElse(-1));
    Header header = record.headers().lastHeader(RecordMeta.HEADER);
    long unreadableBefore = replica.unreadableRecords();
    Replica.Outcome<K> outcome = replica.applyDecoded(record.partition(), record.offset(), record.timestamp(),
        record.key(), record.value(), header == null ? null : header.value(), now);
    if (outcome == null || !outcome.decodable()) {
      LOG.warn("Cache '{}' skipped the record at {}-{} offset {}: not written by Cachet ({}); skipped records: {}",
          name, topic, record.partition(), record.offset(),
          outcome == null ? "its key cannot be decoded"
              : "no decodable '" + RecordMeta.HEADER + "' header",
          replica.skippedRecords());
    }
    if (outcome == null || outcome.meta() == null) {
      return;
    }
    long unreadable = replica.unreadableRecords();
    if (unreadable > unreadableBefore && now >= nextUnreadableWarning) { // this record's value
      nextUnreadableWarning = now + UNREADABLE_WARN_EVERY_MS;
      LOG.warn("Cache '{}' (node {}) cannot decode the value of the record at {}-{} offset {} with {}: the record"
              + " applies, and reads of its key fail here until the key is written again; every node's value codec"
              + " must read what the others write (see docs/replication.md). Such records so far: {} (logged at"
              + " most once a minute)", name, options.nodeId(), topic, record.partition(), record.offset(), valueCodec,
          unreadable);
    }
    RecordMeta meta = outcome.meta();
    writer.onApplied(meta, outcome, record.partition(), record.offset());
  }

  /** Records behind the end of the topic, and how old the newest applied record was; 0 ms when caught up. */
  private void updateLag(Fetcher.Fetched batch, long now) {
    ConsumerRecords<Object, Object> records = batch.records();
    lagRecords = batch.lag();
    if (batch.lag() == 0) {
      lagMillis = 0;
    } else if (!records.isEmpty()) {
      long newest = Long.MIN_VALUE;
      for (TopicPartition tp : records.partitions()) {
        List<ConsumerRecord<Object, Object>> list = records.records(tp);
        newest = Math.max(newest, list.get(list.size() - 1).timestamp());
      }
      lagMillis = Math.max(0, now - newest);
    }
  }

  private void checkReady() {
    long[] ends = endAtStart;
    if (ready || ends == null) {
      return;
    }
    for (int p = 0; p < ends.length; p++) {
      if (replica.position(p) < ends[p]) {
        logProgress();
        return;
      }
    }
    double seconds = (System.nanoTime() - replayStartedNanos) / 1e9;
    long count = replayed.sum();
    LOG.info("Cache '{}' (node {}) is ready: replayed {} record(s) of topic '{}' in {} s ({} records/s), {} entries",
        name, options.nodeId(), count, topic, String.format("%.2f", seconds),
        seconds > 0 ? Math.round(count / seconds) : count, replica.size());
    ready = true;
    if (replayEndsDated) {
      viewAge.allCaughtUpAsOf(replayEndsTakenAt);
    }
    if (!resyncing) {
      readyGate.open();
    }
  }


  /**
   * Stamps the heartbeat; after a gap longer than {@link #PAUSE_NANOS} first marks the node not
   * ready and asks for the topic's current end offsets (apply thread). The flag is written before
   * the heartbeat, and {@link #isReady} reads them in the other order, so a caller that sees the new
   * heartbeat sees the flag.
   */
  private void beat() {
    long nowNanos = System.nanoTime();
    long gapNanos = nowNanos - heartbeatNanos;
    if (gapNanos > PAUSE_NANOS) {
      // Also during a resynchronization: a barrier taken before this pause would be met too early.
      if (readyGate.isOpen()) {
        readyGate.close();
        releaseIfFailed();
      }
      resyncing = true;
      LOG.info("Cache '{}' (node {}): its apply thread did not run for {} ms (the process was paused or starved);"
              + " not ready until it has applied topic '{}' up to its end offsets now", name, options.nodeId(),
          TimeUnit.NANOSECONDS.toMillis(gapNanos), topic);
      resync = barriers.barrier(null, true); // a partition without a leader holds up none of the others
    }
    heartbeatNanos = nowNanos;
  }

  /** A closed gate must not outlive a failure or close reported while it was open. */
  private void releaseIfFailed() {
    if (applierFailure != null || closed.get()) {
      readyGate.open();
    }
  }

  /** Ends a resynchronization once its barrier is reached; takes a new barrier when it failed (apply thread). */
  private void checkResync() {
    CompletableFuture<Void> pending = resync;
    if (pending == null || !pending.isDone()) {
      return;
    }
    if (pending.isCompletedExceptionally()) {
      LOG.debug("Cache '{}' could not yet reach the end offsets of topic '{}' after a pause; trying again", name, topic);
      resync = barriers.barrier(null, true);
      return;
    }
    resync = null;
    resyncing = false;
    LOG.info("Cache '{}' (node {}) caught up with topic '{}' after a pause", name, options.nodeId(), topic);
    if (ready) {
      readyGate.open();
    }
  }

  /** Parks the calling thread while a test holds the replica, as if the process were stopped. */
  private void holdWhileTestAsks() {
    while (heldForTest && !closed.get()) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  /** Holds (or releases) the fetch and apply threads at the top of their loops, as SIGSTOP would. */
  void holdForTest(boolean hold) {
    heldForTest = hold;
  }

  private void logProgress() {
    long nowNanos = System.nanoTime();
    if (nowNanos - nextProgressLog < 0) {
      return;
    }
    if (nextProgressLog != 0) {
      long count = replayed.sum();
      double seconds = (nowNanos - replayStartedNanos) / 1e9;
      LOG.info("Cache '{}' replaying topic '{}': {} of {} record(s) ({}%), {} records/s", name, topic, count,
          replayTarget, replayTarget <= 0 ? 100 : Math.min(100, count * 100 / replayTarget),
          seconds > 0 ? Math.round(count / seconds) : count);
    }
    nextProgressLog = nowNanos + TimeUnit.MILLISECONDS.toNanos(PROGRESS_LOG_INTERVAL_MS);
  }

  private void fail(Throwable t) {
    applierFailure = t;
    readyGate.open();
    LOG.error("Cache '{}': the replica of topic '{}' stopped applying records; the cache no longer changes and"
        + " must be recreated", name, topic, t);
    CacheException failure = new CacheException("the replica of cache '" + name + "' stopped: " + t, t);
    writer.failAll(failure);
    barriers.failAll(failure);
  }

  /**
   * Stops both threads once {@code closed} is set: wakes the consumer and the apply thread's wait
   * for a batch (the fetch thread sees {@code closed} within 100 ms wherever else it waits) and
   * waits up to 30 s for each (the apply thread writes the snapshot, the fetch thread closes the
   * consumer).
   */
  void stop() throws InterruptedException {
    fetcher.wake();
    applier.join(TimeUnit.SECONDS.toMillis(30));
    // After the join: an apply thread still starting up when close began may have started the
    // fetch thread since (it stops at once, seeing closed).
    fetcher.join(TimeUnit.SECONDS.toMillis(30));
  }

  /**
   * Returns whether the replica has caught up: the start-up replay has reached the end offsets taken
   * at start, the apply thread has turned within {@link #PAUSE_NANOS}, and after its last longer
   * pause it has reached end offsets taken after that pause.
   */
  boolean isReady() {
    long beat = heartbeatNanos; // first: see beat()
    // Never once closed or stopped for good, even in the second before the silence counts as a pause.
    return !resyncing && ready && System.nanoTime() - beat <= PAUSE_NANOS && !closed.get() && applierFailure == null;
  }

  /** Returns whether the start-up replay (or a rebuild) has finished, so reads and writes are served. */
  boolean isReplayed() {
    return ready;
  }

  /** Waits until ready, failed, or released by {@link #releaseWaiters}, at most {@code nanos}. */
  void awaitReady(long nanos) throws InterruptedException {
    readyGate.await(System.nanoTime() + nanos, () -> isReady() || applierFailure != null || closed.get());
  }

  /** Releases the threads waiting in {@link #awaitReady} (on close). */
  void releaseWaiters() {
    readyGate.open();
  }

  /** Returns why the replica stopped applying records, or {@code null} while it runs. */
  @Nullable Throwable failure() {
    return applierFailure;
  }

  /** Returns how many times the replica was emptied and rebuilt because its positions left the log. */
  long rebuilds() {
    return rebuilds.sum();
  }

  /** Records in the topic not yet applied here, as of the last poll. */
  long lagRecords() {
    return lagRecords;
  }

  /** Age of the newest applied record when it was applied; 0 when caught up. */
  long lagMillis() {
    return lagMillis;
  }

  /** Returns readiness, replay progress and lag. */
  ReplicationStatus status() {
    long target = replayTarget;
    return new ReplicationStatus(options.nodeId(), topic, isReady(), replayed.sum(), Math.max(target, 0), lagRecords,
        lagMillis, replica.size());
  }
}
