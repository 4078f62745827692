package io.cachet.replicated;

import io.cachet.CacheException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.LogTruncationException;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns a replica's {@code KafkaConsumer} once the apply thread has done the start-up on it: the
 * fetch thread ({@code cachet-fetch-<cache>}) polls and queues each batch with the consumer's
 * positions after it, for the apply thread ({@link Applier}) to apply. Parsing fetched batches thus
 * overlaps with applying the previous ones. A few batches are queued at most, so memory stays
 * bounded.
 *
 * <p>It also watches the topic: when the consumer's positions leave the log it checks the topic
 * before telling the apply thread to rebuild (a topic a producer's write auto-created, with the
 * broker's defaults, fails the check) and reads its id (a recreated topic is rebuilt once, not
 * again by the periodic id check), and every {@link #PARTITION_CHECK_NANOS} it compares the
 * partition count in the consumer's metadata with the count the node started with (a difference is
 * confirmed on the admin client before the replica stops).
 *
 * <p>Threads: {@link #offsets} runs on whichever thread owns the consumer (the apply thread before
 * {@link #start}, the fetch thread after); {@link #diverged} on the apply thread before
 * {@link #start}; {@link #next} on the apply thread; {@link #wake} and
 * {@link #join} on the closing thread.
 */
final class Fetcher {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  /**
   * How often the fetch thread compares the topic's partition count, as its consumer's metadata
   * (refreshed every {@code metadata.max.age.ms}, 5 minutes by default) knows it, with the count the
   * node started with.
   */
  static final long PARTITION_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long TOPIC_CHECK_RETRY_MS = 500;
  /** How far apart two admin checks must both find the partition count changed before the replica stops. */
  static final long PARTITION_CONFIRM_NANOS = TimeUnit.SECONDS.toNanos(5);
  /**
   * How often the fetch thread compares the topic's id with the one it reads: a topic deleted and
   * recreated, whose new log grew past this node's positions before it fetched (a stopped node),
   * never leaves the positions out of range, and would otherwise be read on top of the old state.
   */
  static final long TOPIC_ID_CHECK_NANOS = TimeUnit.SECONDS.toNanos(2);

  /**
   * How long closing the consumer waits. Its close sends each broker a request that ends the
   * consumer's fetch session and waits for the answer; the broker takes one request per
   * connection at a time, so that answer comes only after the fetch already in flight, which the
   * broker holds up to {@code fetch.max.wait.ms} when no data comes. A longer timeout would wait
   * that out on every cache close; this one is enough to write the request. Should it not be
   * written in time, the broker keeps the session until it evicts it (idle sessions become
   * evictable after {@code min.incremental.fetch.session.eviction.ms}, 120 s by default): later
   * fetches of other clients stay correct. The consumer's sockets and threads are closed either way.
   */
  static final Duration CONSUMER_CLOSE_TIMEOUT = Duration.ofMillis(20);

  /**
   * One poll's records, the consumer's positions after them, and the records still behind; or,
   * with {@code rebuild}, the news that the consumer's positions left the log and it now reads the
   * topic from the beginning.
   */
  record Fetched(ConsumerRecords<Object, Object> records, long[] positions, long lag, @Nullable Rebuild rebuild) {}

  /**
   * The positions that were out of range (none when only the topic's id told), the log's bounds
   * when the consumer went back to its start, and the topic's new id if it was recreated.
   */
  record Rebuild(Map<TopicPartition, Long> outOfRange, long[] starts, long[] ends, @Nullable String newTopicId) {}

  /** Put in the queue by {@link #wake} so the apply thread stops now, not after its poll timeout. */
  static final Fetched STOP = new Fetched(ConsumerRecords.empty(), new long[0], 0, null);

  private final String name;
  private final ReplicationOptions options;
  private final String topic;
  private final KafkaConsumer<Object, Object> consumer;
  private final List<TopicPartition> partitions;
  private final AtomicBoolean closed;
  private final BooleanSupplier stopped;
  private final Consumer<Throwable> fail;
  private final Runnable topicCheck;
  private final Runnable holdWhileTestAsks;
  /** Batches polled, waiting to be applied. */
  private final BlockingQueue<Fetched> fetched = new ArrayBlockingQueue<>(4);
  private volatile @Nullable Thread thread;
  /** When an admin check first confirmed a changed partition count ({@code System.nanoTime}); 0: not. Fetch thread only. */
  private long unfitSince;
  /** Reads the topic's id now (null: no such topic now); throws a {@link CacheException} when Kafka cannot tell. */
  private final Supplier<@Nullable String> topicIdNow;
  /** The id of the topic this replica reads. Fetch thread only. */
  private String topicId;

  /**
   * @param closed set once by the cache's {@code close()}
   * @param stopped whether the replica has stopped (closed, or failed)
   * @param fail stops the replica with a failure
   * @param topicCheck checks that the topic still suits the node (TopicSetup.verify): throws
   *     {@link IllegalStateException} when it does not, a {@link CacheException} when Kafka cannot tell
   * @param holdWhileTestAsks parks while a test holds the replica, as a stopped process would
   */
  Fetcher(String name, ReplicationOptions options, KafkaConsumer<Object, Object> consumer,
      List<TopicPartition> partitions, AtomicBoolean closed, BooleanSupplier stopped, Consumer<Throwable> fail,
      Runnable topicCheck, Runnable holdWhileTestAsks, String topicId, Supplier<@Nullable String> topicIdNow) {
    this.name = name;
    this.options = options;
    this.topic = options.topicFor(name);
    this.consumer = consumer;
    this.partitions = partitions;
    this.closed = closed;
    this.stopped = stopped;
    this.fail = fail;
    this.topicCheck = topicCheck;
    this.holdWhileTestAsks = holdWhileTestAsks;
    this.topicId = topicId;
    this.topicIdNow = topicIdNow;
  }

  /** Starts the fetch thread, which owns the consumer from here on ({@code Thread.start} hands it over). */
  void start() {
    Thread fetch = new Thread(this::run, "cachet-fetch-" + name);
    thread = fetch;
    try {
      Threads.start(fetch);
    } catch (Throwable e) { // no native thread: the consumer stays the apply thread's, to close
      thread = null;
      throw e;
    }
  }

  /** Whether {@link #start} has run; until then the apply thread owns the consumer and closes it. */
  boolean started() {
    return thread != null;
  }

  /** The next batch to apply, {@link #STOP}, or null after {@code timeoutMillis} (apply thread). */
  @Nullable Fetched next(long timeoutMillis) throws InterruptedException {
    return fetched.poll(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /** Wakes both threads from their waits once the cache is closing (closing thread). */
  void wake() {
    // Not an interrupt: an interrupted thread cannot close the consumer (InterruptException).
    consumer.wakeup();
    // Wakes the apply thread from its wait for a batch; when the queue is full it is not waiting.
    fetched.offer(STOP);
  }

  /** Waits for the fetch thread to end, if it was started (closing thread). */
  void join(long millis) throws InterruptedException {
    Thread fetch = thread;
    if (fetch != null) {
      fetch.join(millis);
    }
  }

  /** Polls the consumer and hands each batch, with the positions after it, to the apply thread. */
  private void run() {
    try {
      long nextPartitionCheck = System.nanoTime();
      long nextTopicIdCheck = System.nanoTime() + TOPIC_ID_CHECK_NANOS;
      while (!stopped.getAsBoolean()) {
        holdWhileTestAsks.run();
        if (System.nanoTime() - nextTopicIdCheck >= 0) {
          nextTopicIdCheck = System.nanoTime() + TOPIC_ID_CHECK_NANOS;
          String now = currentTopicId();
          if (now != null && !now.equals(topicId)) {
            // Recreated: the positions may still lie inside the new log, so no out-of-range error
            // would ever say so. Rebuild from the new log, once it is known to suit the node.
            if (!topicStillFits() || !rebuildFromStart(Map.of(), now)) {
              return;
            }
            topicId = now;
            continue;
          }
        }
        if (System.nanoTime() - nextPartitionCheck >= 0) {
          nextPartitionCheck = System.nanoTime() + PARTITION_CHECK_NANOS;
          int count = knownPartitionCount();
          if (count > 0 && count != partitions.size() && partitionCountChanged()) {
            return;
          }
        }
        ConsumerRecords<Object, Object> records;
        long[] positions;
        try {
          records = consumer.poll(Duration.ofMillis(100));
          // Every partition's position, also of those that returned no record: the consumer skips
          // transaction markers without returning them, and a poll that only passed one must still
          // move the replica past it, or it would stay below the log's end offset. Inside this try:
          // reading a position may surface the same out-of-range error as the poll.
          positions = new long[partitions.size()];
          for (TopicPartition tp : partitions) {
            positions[tp.partition()] = knownPosition(tp);
          }
        } catch (OffsetOutOfRangeException e) {
          // Never a silent rewind: the apply thread rebuilds the replica from what the log holds now,
          // once the topic is known to suit it (it may be one a producer's write auto-created).
          if (!topicStillFits()) {
            return;
          }
          String recreated = recreatedTopicId();
          if (!rebuildFromStart(Map.copyOf(e.offsetOutOfRangePartitions()), recreated)) {
            return;
          }
          if (recreated != null) {
            topicId = recreated;
          }
          continue;
        }
        long lag = 0;
        for (TopicPartition tp : partitions) {
          lag += consumer.currentLag(tp).orElse(0);
        }
        Fetched batch = new Fetched(records, positions, lag, null);
        if (records.isEmpty()) {
          fetched.offer(batch); // only news about the lag: dropped when the apply thread is busy
        } else if (!enqueue(batch)) {
          return;
        }
      }
    } catch (WakeupException | InterruptedException e) {
      if (!closed.get()) {
        fail.accept(e);
      }
    } catch (Throwable t) {
      if (!closed.get()) {
        fail.accept(t);
      }
    } finally {
      closeConsumer();
    }
  }

  /**
   * Moves the consumer to the start of the log and tells the apply thread to rebuild the replica
   * from there; false once stopped.
   */
  private boolean rebuildFromStart(Map<TopicPartition, Long> outOfRange, @Nullable String newTopicId)
      throws InterruptedException {
    consumer.seekToBeginning(partitions);
    long[] starts = offsets(false);
    long[] ends = offsets(true);
    return starts != null && ends != null
        && enqueue(new Fetched(ConsumerRecords.empty(), new long[0], 0, new Rebuild(outOfRange, starts, ends, newTopicId)));
  }

  /**
   * The topic's id now if it is not the one this replica reads (the topic was deleted and
   * recreated); null when it is the same or unknown. Read before a rebuild's seek to the start of
   * the log: the rebuild then reads this topic (or a later one, which the periodic check finds), so
   * recording its id keeps that check from rebuilding once more.
   */
  private @Nullable String recreatedTopicId() {
    String now = currentTopicId();
    return now != null && !now.equals(topicId) ? now : null;
  }

  /** The topic's id now; null when unknown (no such topic at the moment, or Kafka cannot tell). */
  private @Nullable String currentTopicId() {
    try {
      return topicIdNow.get();
    } catch (CacheException e) {
      return null;
    }
  }

  /**
   * Runs the topic check: true once it passes; false, having failed the replica, when the topic is
   * unfit; false once the replica stopped (closed, or failed). Retries every {@value #TOPIC_CHECK_RETRY_MS} ms while Kafka cannot
   * tell (unreachable, or the topic is gone for now).
   */
  private boolean topicStillFits() throws InterruptedException {
    boolean warned = false;
    while (!stopped.getAsBoolean()) {
      try {
        topicCheck.run();
        return true;
      } catch (IllegalStateException unfit) {
        fail.accept(unfit);
        return false;
      } catch (CacheException notNow) {
        if (!warned) {
          LOG.warn("Cache '{}' cannot check topic '{}' after its positions left the log ({}); still trying", name,
              topic, notNow.getMessage());
          warned = true;
        }
        Thread.sleep(TOPIC_CHECK_RETRY_MS);
      }
    }
    return false;
  }

  /**
   * Confirms on the admin client a partition count that the consumer's metadata reports different
   * (metadata from a lagging broker may list fewer partitions for a while): true, having failed the
   * replica, when the topic check has failed twice, {@link #PARTITION_CONFIRM_NANOS} apart; false
   * otherwise (checked again in a second).
   */
  private boolean partitionCountChanged() {
    try {
      topicCheck.run();
      unfitSince = 0;
      return false;
    } catch (IllegalStateException unfit) {
      // The admin client asks one broker too, which may lag as well: the replica stops only when a
      // second check, at least PARTITION_CONFIRM_NANOS after the first, still finds it so.
      long now = System.nanoTime();
      if (unfitSince == 0) {
        unfitSince = now;
        return false;
      }
      if (now - unfitSince < PARTITION_CONFIRM_NANOS) {
        return false;
      }
      fail.accept(unfit);
      return true;
    } catch (CacheException notNow) {
      return false;
    }
  }

  /** The topic's partition count as the consumer's metadata knows it, without asking the broker; 0 if unknown. */
  private int knownPartitionCount() {
    try {
      return consumer.partitionsFor(topic, Duration.ZERO).size();
    } catch (RuntimeException e) { // not known yet, or the topic is gone: nothing to compare
      return 0;
    }
  }

  /**
   * The consumer's position in {@code tp} if it knows it without waiting for the broker, else 0
   * (which moves nothing): a partition reset to its start is resolved by a later poll, not waited
   * for here. Throws what the poll would ({@link OffsetOutOfRangeException} after a truncation).
   */
  private long knownPosition(TopicPartition tp) {
    try {
      return consumer.position(tp, Duration.ZERO);
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      return 0;
    }
  }

  /** Hands {@code batch} to the apply thread, waiting while the queue is full; {@code false} once stopped. */
  private boolean enqueue(Fetched batch) throws InterruptedException {
    while (!fetched.offer(batch, 100, TimeUnit.MILLISECONDS)) {
      if (stopped.getAsBoolean()) {
        return false;
      }
    }
    return true;
  }

  /** Closes the consumer (the thread that owns it). */
  void closeConsumer() {
    try {
      consumer.close(CONSUMER_CLOSE_TIMEOUT);
    } catch (RuntimeException e) {
      LOG.debug("Closing the consumer of cache '{}' failed", name, e);
    }
  }

  /**
   * Waits until the consumer has checked the positions it was given with a leader epoch (a
   * snapshot's) against the log, and returns the partitions whose log parts from what the replica
   * applied there, each with the offset where the two part (-1 where Kafka cannot tell): the log
   * was cut back below the position and written again since. Empty when none did; null once
   * closed. Call before the fetch thread starts.
   */
  @Nullable Map<TopicPartition, Long> diverged() {
    boolean warned = false;
    while (!closed.get()) {
      try {
        for (TopicPartition tp : partitions) {
          consumer.position(tp, Duration.ofSeconds(5));
        }
        return Map.of();
      } catch (LogTruncationException e) {
        Map<TopicPartition, Long> diverged = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
        e.offsetOutOfRangePartitions().forEach((tp, position) -> diverged.put(tp,
            e.divergentOffsets().containsKey(tp) ? e.divergentOffsets().get(tp).offset() : -1L));
        return diverged;
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        if (!warned) {
          LOG.warn("Cache '{}' cannot reach Kafka at {} to check its snapshot's positions in topic '{}'; still"
              + " trying", name, options.bootstrapServers(), topic);
          warned = true;
        }
      }
    }
    return null;
  }

  /**
   * Returns the end (or start) offsets of the partitions, retrying while the brokers are
   * unreachable; null once closed. Runs on whichever thread owns the consumer.
   */
  long @Nullable [] offsets(boolean end) {
    boolean warned = false;
    while (!closed.get()) {
      try {
        Map<TopicPartition, Long> found = end
            ? consumer.endOffsets(partitions, Duration.ofSeconds(5))
            : consumer.beginningOffsets(partitions, Duration.ofSeconds(5));
        long[] result = new long[partitions.size()];
        for (TopicPartition tp : partitions) {
          result[tp.partition()] = found.get(tp);
        }
        return result;
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        if (!warned) {
          LOG.warn("Cache '{}' cannot reach Kafka at {} to read the {} of topic '{}'; still trying", name,
              options.bootstrapServers(), end ? "end" : "start", topic);
          warned = true;
        }
      }
    }
    return null;
  }
}
