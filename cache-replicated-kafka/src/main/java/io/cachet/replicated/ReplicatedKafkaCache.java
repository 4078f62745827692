package io.cachet.replicated;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheLoadException;
import io.cachet.CacheNotReadyException;
import io.cachet.CacheStats;
import io.cachet.CacheTimeoutException;
import io.cachet.Ticker;
import io.cachet.codec.Codec;
import io.cachet.spi.AbstractCache;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.Checks;
import io.cachet.spi.MetricsSource;
import io.cachet.spi.StatsCounter;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API of a replicated cache, implementing {@link Cache} and {@link ReplicatedCache} by
 * delegating: it checks arguments and state, reads the {@link Replica}, hands writes to
 * {@link CacheWrites} and waits for the futures of sync calls. The cache is held in memory on every
 * node and changed only by applying the records of its Kafka topic in offset order. Thread-safe.
 *
 * <p>The {@link Applier} applies the topic, the {@link Writer} sends records, {@link ReadBarriers}
 * serve {@code readLatest}, {@link Housekeeping} keeps the topic compactable and
 * {@link SnapshotStore} keeps the snapshot file. Threads and their duties are described in
 * CONCURRENCY.md.
 */
final class ReplicatedKafkaCache<K, V> extends AbstractCache<K, V> implements ReplicatedCache<K, V>, MetricsSource {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);
  /** How long past the write timeout a sync call waits before giving up on its future. */
  private static final long JOIN_MARGIN_MS = 5_000;

  private final ReplicationOptions options;
  private final String topic;
  private final InstantSource clock;
  private final Admin admin;
  private final Replica<K, V> replica;
  private final Writer<K, V> writer;
  private final ReadBarriers barriers;
  private final Housekeeping<K, V> housekeeping;
  private final Applier<K, V> applier;
  private final CacheWrites<K, V> writes;
  private final ReplicaReads<K, V> reads;
  /** How long ago each partition was confirmed caught up; gates conditional writes. */
  private final ViewAge viewAge;
  /** Set once when the cache closes; shared with the components, which stop on it. */
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AsyncCache<K, V> async;
  /** {@code expireAfterWrite} in milliseconds; 0 for none. */
  private final long expireAfterWriteMillis;

  ReplicatedKafkaCache(
      CacheConfig<K, V> config, ReplicationOptions options, Admin admin, TopicSetup.TopicInfo topicInfo,
      Consumer<Cache<?, ?>> onClose) {
    super(config, onClose);
    int partitionCount = topicInfo.partitions();
    this.options = options;
    this.topic = options.topicFor(config.name());
    Codec<K> keyCodec = Checks.keyCodec(config, ReplicatedCacheProvider.NAME);
    Codec<V> valueCodec = Checks.valueCodec(config, ReplicatedCacheProvider.NAME);
    this.clock = config.clock();
    this.admin = admin;
    List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitionCount; p++) {
      tps.add(new TopicPartition(topic, p));
    }
    List<TopicPartition> partitions = List.copyOf(tps);
    String clientId = topic + "-" + options.nodeId();
    this.viewAge = new ViewAge(Ticker.system(), partitionCount);
    SnapshotStore<K, V> snapshots = new SnapshotStore<>(config.name(), options, topicInfo, keyCodec, valueCodec, clock,
        () -> TimeUnit.NANOSECONDS.toMillis(viewAge.oldestAgeNanos()));
    this.replica = snapshots.replica();
    KafkaProducer<byte[], byte[]> p = null;
    KafkaConsumer<Object, Object> consumer;
    try {
      p = new KafkaProducer<>(KafkaClients.producer(options, clientId + "-producer"));
      // Keys and values are decoded as they are fetched, straight out of the fetch buffer.
      consumer = new KafkaConsumer<>(KafkaClients.consumer(options, clientId + "-consumer"),
          new RecordDecoder<>(keyCodec), new RecordDecoder<>(valueCodec));
    } catch (KafkaException e) {
      if (p != null) {
        p.close(Duration.ZERO);
      }
      throw new CacheException("could not create the Kafka clients of cache '" + config.name() + "': " + e, e);
    }
    Sender sender = new Sender(config.name(), p);
    try {
      this.writer = new Writer<>(config.name(), options, keyCodec, valueCodec, clock, replica, partitionCount, sender,
          this::requireWritable, this::replicaFailure, Ticker.system(), viewAge);
      this.barriers = new ReadBarriers(config.name(), options, admin, partitions, replica, closed);
      this.housekeeping = new Housekeeping<>(config.name(), options.nodeId(), replica, writer, snapshots,
          options.writeTimeout().toMillis() + Housekeeping.FALLBACK_DELAY_MS);
      this.applier = new Applier<>(config.name(), options, valueCodec, clock, consumer, partitions, snapshots, writer,
          barriers, housekeeping, closed, () -> TopicSetup.verify(admin, topic, options, partitionCount),
          topicInfo.topicId(), () -> TopicSetup.topicId(admin, topic, options), viewAge);
      this.writes = new CacheWrites<>(config.name(), config.perEntryTtl(), config.maximumSize(),
          config.expireAfterWrite().orElse(null), clock, stats, replica, writer, this::requireWritable, this::removing,
          this::writing);
      this.reads = new ReplicaReads<>(config.name(), topic, replica, stats, clock, this::requireReadable);
      this.async = new AsyncView<>(this, writes, config.executor());
      this.expireAfterWriteMillis = config.expireAfterWrite().map(Duration::toMillis).orElse(0L);
      sender.start();
      applier.start();
    } catch (Throwable e) { // no native thread for the send or apply thread, say: nothing may stay open
      closed.set(true);
      sender.close(); // stops the send thread if it started, and closes the producer
      try {
        consumer.close(Duration.ZERO); // no thread has it: the apply thread did not start
      } catch (RuntimeException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
  }

  /** Why the replica stopped applying records for good, or null while it runs. */
  @Nullable Throwable replicaFailure() {
    return applier.failure();
  }

  // ------------------------------------------------------------------ Cache

  @Override
  public @Nullable V get(K key) {
    requireNonNull(key, "key");
    long stamp = reads.begin();
    if (options.readLatest()) {
      join(barriers.barrier(writer.partitionOf(key)));
    }
    return reads.get(key, stamp);
  }

  @Override
  protected @Nullable V getCountingHits(K key) {
    long stamp = reads.begin();
    if (options.readLatest()) {
      join(barriers.barrier(writer.partitionOf(key)));
    }
    return reads.getCountingHits(key, stamp);
  }

  /**
   * Reads {@code key} with its write time, derived from the absolute deadline its record carries:
   * it was written {@code expireAfterWrite} before that deadline, by the writer's clock (the
   * provider refuses refreshAfterWrite without expireAfterWrite). An entry without a deadline has
   * no known write time and is never refreshed.
   */
  @Override
  protected @Nullable Written<V> getWritten(K key) {
    requireNonNull(key, "key");
    long stamp = reads.begin();
    if (options.readLatest()) {
      join(barriers.barrier(writer.partitionOf(key)));
    }
    Entry<V> entry = reads.entry(key, stamp);
    long now = clock.millis();
    if (entry == null || !entry.isLive(now)) {
      return null; // the load that follows counts the miss
    }
    Unreadable.check(entry.value(), config.name(), key, "read");
    stats.recordHits(1);
    V value = requireNonNull(entry.value());
    long deadline = entry.deadline();
    if (deadline == 0 || deadline == Long.MAX_VALUE || expireAfterWriteMillis == 0) {
      return new Written<>(value, Long.MAX_VALUE);
    }
    long ageMillis = expireAfterWriteMillis - (deadline - now);
    return new Written<>(value, config.ticker().read() - TimeUnit.MILLISECONDS.toNanos(ageMillis));
  }

  @Override
  protected @Nullable V getQuietly(K key) {
    Entry<V> entry = replica.get(key);
    if (entry == null || !entry.isLive(clock.millis())) {
      return null;
    }
    Unreadable.check(entry.value(), config.name(), key, "read");
    return entry.value();
  }

  @Override
  protected V storeLoaded(K key, V value) {
    return join(writes.storeLoaded(key, value));
  }

  @Override
  protected boolean replaceReloaded(K key, Written<V> read, V value) {
    return join(writes.replaceReloaded(key, read.value(), value));
  }

  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    List<K> list = keyList(keys);
    long stamp = reads.begin();
    if (options.readLatest()) {
      join(barriers.barrier(partitionsOf(list), false));
    }
    return reads.getAll(list, stamp);
  }

  /** The partitions of {@code keys}, each once: what a read barrier for them waits for. */
  private int[] partitionsOf(List<K> keys) {
    return keys.stream().mapToInt(writer::partitionOf).distinct().toArray();
  }

  private static <K> List<K> keyList(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    List<K> list = new ArrayList<>();
    for (K key : keys) {
      list.add(requireNonNull(key, "key"));
    }
    return list;
  }

  @Override
  public void put(K key, V value) {
    join(writes.put(key, value, null));
  }

  @Override
  public void put(K key, V value, Duration ttl) {
    requireNonNull(ttl, "ttl");
    join(writes.put(key, value, ttl));
  }

  @Override
  public void putAll(Map<? extends K, ? extends V> entries) {
    requireNonNull(entries, "entries");
    requireWritable(); // an empty map included, as on every backend
    // Copied first: the caller's map is read only here, on its thread, and checked for nulls whole.
    List<Map.Entry<K, V>> copy = new ArrayList<>(entries.size());
    entries.forEach((k, v) -> copy.add(Map.entry(requireNonNull(k, "key"), requireNonNull(v, "value"))));
    bulk(copy.iterator(), e -> writes.put(e.getKey(), e.getValue(), null));
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    return join(writes.putIfAbsent(key, value));
  }

  @Override
  public boolean replace(K key, V value) {
    return join(writes.replace(key, value));
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    return join(writes.replace(key, oldValue, newValue));
  }

  @Override
  public boolean remove(K key) {
    return join(writes.remove(key));
  }

  @Override
  public boolean remove(K key, V value) {
    return join(writes.remove(key, value));
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    return join(writes.expire(key, ttl));
  }

  @Override
  public void clear() {
    requireWritable(); // a cache that takes no writes flags no load
    // The loads in flight are flagged before the keys are picked: a load storing meanwhile either
    // stored before the pick (its key is cleared) or sees the flag and undoes its store.
    clearing();
    List<K> keys = writes.keysToClear();
    bulk(keys.iterator(), writes::clear);
  }

  @Override
  public long estimatedSize() {
    checkOpen();
    return replica.size();
  }

  @Override
  public CacheStats stats() {
    checkOpen();
    return stats.snapshot();
  }

  @Override
  public AsyncCache<K, V> async() {
    checkOpen();
    return async;
  }

  @Override
  protected void release() {
    closed.set(true);
    try {
      applier.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writer.close();
    try {
      admin.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.debug("Closing the admin client of cache '{}' failed", name(), e);
    }
    IllegalStateException closedError = new IllegalStateException("cache '" + name() + "' was closed");
    writer.failAll(closedError);
    barriers.failAll(closedError);
    applier.releaseWaiters();
  }

  // ------------------------------------------------------------------ ReplicatedCache

  @Override
  public boolean isReady() {
    return !isClosed() && applier.isReady(); // the applier also answers false once closed or failed
  }

  @Override
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    requireNonNull(timeout, "timeout");
    checkOpen();
    applier.awaitReady(Math.max(0, Checks.saturatedNanos(timeout)));
    checkOpen();
    return isReady();
  }

  @Override
  public @Nullable V readLatest(K key) {
    requireNonNull(key, "key");
    long stamp = reads.begin();
    join(barriers.barrier(writer.partitionOf(key)));
    return reads.get(key, stamp);
  }

  /** Returns the value of {@code key} once readable, after a read barrier when {@code readLatest} is set. */
  CompletableFuture<@Nullable V> getAsync(K key) {
    long stamp = reads.begin();
    return options.readLatest()
        ? barriers.barrier(writer.partitionOf(key)).thenApply(x -> reads.get(key, stamp))
        : CompletableFuture.completedFuture(reads.get(key, stamp));
  }

  /** Returns the values of {@code keys} once readable, after a read barrier (never waited for here) when {@code readLatest} is set. */
  CompletableFuture<Map<K, V>> getAllAsync(Iterable<? extends K> keys) {
    List<K> list = keyList(keys);
    long stamp = reads.begin();
    return options.readLatest()
        ? barriers.barrier(partitionsOf(list), false).thenApply(x -> reads.getAll(list, stamp))
        : CompletableFuture.completedFuture(reads.getAll(list, stamp));
  }

  @Override
  public ReplicationStatus status() {
    return applier.status();
  }

  /** Holds (or releases) the replica's fetch and apply threads, as stopping the process would. */
  void holdForTest(boolean hold) {
    applier.holdForTest(hold);
  }

  // ------------------------------------------------------------------ metrics

  @Override
  public List<BackendMetric> backendMetrics() {
    return ReplicationMetrics.of(applier, writer, housekeeping, replica, viewAge);
  }

  // ------------------------------------------------------------------ helpers

  private void requireReadable() {
    checkOpen();
    Throwable failure = applier.failure();
    if (failure != null) {
      throw new CacheException("the replica of cache '" + name() + "' stopped applying records: " + failure, failure);
    }
    if (!applier.isReplayed()) { // not isReady(): reads keep working while a paused node catches up
      ReplicationStatus s = status();
      throw new CacheNotReadyException("cache '" + name() + "' is still replaying topic '" + topic + "': "
          + s.replayedRecords() + " of " + s.replayTarget() + " record(s) applied", null);
    }
  }

  private void requireWritable() {
    requireReadable();
  }

  /**
   * Runs a bulk operation's writes, at most {@link BulkWrites#MAX_IN_FLIGHT} at a time, and
   * rethrows the first failure unchanged. Each write fails by itself at its write timeout; the
   * last-resort bound of {@link #join} applies to each stretch without a completed write, so a
   * large bulk operation that makes progress is never cut off. After a failure, a timeout or an
   * interrupt no further write starts.
   */
  private <T> void bulk(Iterator<T> items, Function<T, CompletableFuture<?>> write) {
    long boundMillis = options.writeTimeout().toMillis() + JOIN_MARGIN_MS;
    try {
      BulkWrites.run(items, write, BulkWrites.MAX_IN_FLIGHT, TimeUnit.MILLISECONDS.toNanos(boundMillis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while waiting for cache '" + name() + "'; no further write of the"
          + " bulk operation was started", e);
    } catch (TimeoutException e) {
      throw new CacheTimeoutException("cache '" + name() + "' completed no write of a bulk operation within "
          + boundMillis + " ms (writeTimeout " + options.writeTimeout() + " plus " + JOIN_MARGIN_MS + " ms): "
          + e.getMessage() + "; no further write was started, and those in flight may still take effect", e);
    } catch (ExecutionException e) {
      throw failure(e);
    }
  }

  /**
   * Waits for a write or barrier and rethrows its failure unchanged. The future fails by itself at
   * its write timeout; the bound here is a last resort, so that no caller hangs whatever happens.
   */
  private <T> T join(CompletableFuture<T> future) {
    long boundMillis = options.writeTimeout().toMillis() + JOIN_MARGIN_MS;
    try {
      return future.get(boundMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while waiting for cache '" + name() + "'", e);
    } catch (TimeoutException e) {
      future.cancel(false);
      throw new CacheTimeoutException("cache '" + name() + "' did not answer within " + boundMillis
          + " ms (writeTimeout " + options.writeTimeout() + " plus " + JOIN_MARGIN_MS + " ms); the operation may still"
          + " take effect", e);
    } catch (ExecutionException e) {
      throw failure(e);
    }
  }

  /** The failure of a write, barrier or bulk operation, unchanged where it is unchecked. */
  private RuntimeException failure(ExecutionException e) {
    Throwable cause = Futures.unwrap(e);
    if (cause instanceof RuntimeException r) {
      return r;
    }
    if (cause instanceof Error err) {
      throw err;
    }
    return new CacheException("cache '" + name() + "' failed: " + cause, cause);
  }
}
