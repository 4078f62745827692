package io.cachet.replicated;

import io.cachet.codec.Codec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshot file of one cache ({@code snapshotPath}): loads the replica from it at start, checks
 * its positions against the log, and saves the replica to it every {@code snapshotInterval} and on
 * close. The constructor runs on the creating thread; everything else on the apply thread.
 */
final class SnapshotStore<K, V> {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  private final String name;
  private final ReplicationOptions options;
  private final String topic;
  /** The id of the topic the replica reflects; changed by a rebuild after the topic was recreated (apply thread). */
  private String topicId;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  private final InstantSource clock;
  /** How long ago the replica was last confirmed caught up with the topic, in milliseconds. */
  private final LongSupplier viewAgeMillis;
  private final Replica<K, V> replica;
  private final long[] startPositions;
  // Apply thread only.
  private long nextSnapshot;
  /** The thread writing the last periodic save; it may have finished (apply thread). */
  private @Nullable Thread writing;

  /** Records that the replica now reflects the topic of this id (apply thread, on a rebuild). */
  void topicId(String id) {
    topicId = id;
  }

  /**
   * Loads the snapshot, if there is a usable one; otherwise starts from an empty replica at offset 0.
   *
   * @param viewAgeMillis how long ago the replica was last confirmed caught up with the topic: a
   *     snapshot is dated that much before it is saved, since a node cut off from Kafka goes on
   *     saving a view no newer than that
   */
  SnapshotStore(String name, ReplicationOptions options, TopicSetup.TopicInfo topicInfo, Codec<K> keyCodec,
      Codec<V> valueCodec, InstantSource clock, LongSupplier viewAgeMillis) {
    int partitionCount = topicInfo.partitions();
    this.name = name;
    this.options = options;
    this.topic = options.topicFor(name);
    this.topicId = topicInfo.topicId();
    this.keyCodec = keyCodec;
    this.valueCodec = valueCodec;
    this.clock = clock;
    this.viewAgeMillis = viewAgeMillis;
    Replica<K, V> loaded = null;
    long[] positions = new long[partitionCount];
    if (options.snapshotPath().isPresent()) {
      Path path = options.snapshotPath().get();
      Replica<K, V> candidate = new Replica<>(keyCodec, valueCodec, partitionCount);
      if (Files.exists(path)) {
        try {
          positions = Snapshot.read(path, topic, topicInfo.topicId(), candidate, keyCodec, valueCodec, clock.millis(),
              topicInfo.deleteRetentionMillis());
          loaded = candidate;
          LOG.info("Cache '{}' loaded snapshot {} ({} entries); replaying the topic from there", name, path,
              candidate.size());
        } catch (IOException e) {
          LOG.warn("Cache '{}': snapshot {} is unusable ({}); replaying topic '{}' from the beginning", name,
              path, e.getMessage(), topic);
          positions = new long[partitionCount];
        }
      } else {
        LOG.warn("Cache '{}': no snapshot at {}; replaying topic '{}' from the beginning", name, path, topic);
      }
    }
    this.replica = loaded != null ? loaded : new Replica<>(keyCodec, valueCodec, partitionCount);
    this.startPositions = positions;
  }

  /** Returns the replica: as loaded from the snapshot, or empty. */
  Replica<K, V> replica() {
    return replica;
  }

  /** Returns, per partition, the offset the replica starts applying from: the snapshot's positions, or 0. */
  long[] startPositions() {
    return startPositions;
  }

  /** Checks the snapshot's positions against the log: outside it, the topic was recreated or truncated. */
  boolean fits(List<TopicPartition> partitions, long[] starts, long[] ends) {
    for (TopicPartition tp : partitions) {
      long position = startPositions[tp.partition()];
      if (position > ends[tp.partition()] || position < starts[tp.partition()]) {
        LOG.warn("Cache '{}': snapshot position {} of {} is outside the log ({}..{}): the topic was recreated or"
                + " truncated. Replaying topic '{}' from the beginning instead", name, position, tp,
            starts[tp.partition()], ends[tp.partition()], topic);
        return false;
      }
    }
    return true;
  }

  /**
   * Saves the replica once {@code snapshotInterval} has passed since the last time (not at start),
   * unless the last save is still being written. The entries are copied here, on the apply thread
   * ({@code progress} runs as it goes, so a large copy is not taken for a pause), and encoded and
   * written on a thread of their own, so that records go on being applied meanwhile.
   */
  void saveIfDue(long now, Runnable progress) {
    if (options.snapshotPath().isPresent() && now >= nextSnapshot) {
      Thread last = writing;
      if (nextSnapshot != 0 && (last == null || !last.isAlive())) {
        saveInBackground(progress);
      }
      nextSnapshot = now + options.snapshotInterval().toMillis();
    }
  }

  /**
   * Saves the replica now, on this thread, once a save being written has finished (both write the
   * same temporary file), if the cache has a snapshot path; a failure is logged, never thrown.
   */
  void save() {
    Path path = options.snapshotPath().orElse(null);
    if (path == null) {
      return;
    }
    boolean interrupted = Thread.interrupted() | awaitWriting(); // both: an interrupt set before counts too
    try {
      write(path, topicId, Snapshot.freeze(replica, () -> { }), asOf());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt(); // after the write: an interrupted FileChannel closes
      }
    }
  }

  /**
   * Waits for a save being written, if any, keeping this thread's interrupt: the apply thread's
   * last step when it stops without a save of its own (closed before ready, or failed), so that no
   * writer outlives the cache and races a later one on the same file.
   */
  void awaitSaved() {
    if (awaitWriting()) {
      Thread.currentThread().interrupt();
    }
  }

  private void saveInBackground(Runnable progress) {
    Path path = options.snapshotPath().orElseThrow();
    String id = topicId;
    long asOf = asOf();
    Snapshot.Frozen<K, V> frozen = Snapshot.freeze(replica, progress);
    Thread thread = new Thread(() -> write(path, id, frozen, asOf), "cachet-snapshot-" + name);
    try {
      Threads.start(thread);
      writing = thread;
    } catch (OutOfMemoryError e) { // no native thread to spare: write it here, as a close does
      LOG.debug("Cache '{}' writes its snapshot on the apply thread: {}", name, e.toString());
      write(path, id, frozen, asOf);
    }
  }

  /**
   * The time the snapshot is dated: as of the view, not the save. The age check on restart
   * ({@code delete.retention.ms}) must count from the last moment the replica was known to hold
   * every tombstone written so far.
   */
  private long asOf() {
    return clock.millis() - Math.max(0, viewAgeMillis.getAsLong());
  }

  private void write(Path path, String id, Snapshot.Frozen<K, V> frozen, long asOf) {
    try {
      long started = System.nanoTime();
      long count = Snapshot.write(path, topic, id, frozen, keyCodec, valueCodec, asOf, Snapshot.ENTRIES_PER_SECTION);
      LOG.debug("Cache '{}' wrote snapshot {} ({} entries) in {} ms", name, path, count,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    } catch (IOException | RuntimeException | StackOverflowError e) {
      LOG.warn("Cache '{}' could not write snapshot {}: {}", name, path, e.toString());
    } catch (Error e) {
      LOG.error("Cache '{}' could not write snapshot {}", name, path, e);
      throw e;
    }
  }

  /**
   * Waits for the save being written, if any, and returns whether this thread was interrupted
   * meanwhile (its interrupt is cleared: the caller restores it).
   */
  private boolean awaitWriting() {
    Thread thread = writing;
    if (thread == null) {
      return false;
    }
    boolean interrupted = Thread.interrupted();
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true; // the save still has to finish before anything else writes the file
      }
    }
    writing = null;
    return interrupted;
  }
}
