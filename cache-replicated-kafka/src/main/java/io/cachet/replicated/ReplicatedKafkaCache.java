package io.cachet.replicated;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheLoadException;
import io.cachet.CacheNotReadyException;
import io.cachet.CacheStats;
import io.cachet.codec.Codec;
import io.cachet.replicated.RecordMeta.Op;
import io.cachet.replicated.Writer.Decision;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.Checks;
import io.cachet.spi.MetricsSource;
import io.cachet.spi.StatsCounter;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache held in memory on every node and changed only by applying the records of its Kafka topic
 * in offset order. Thread-safe. Threads and their duties are described in CONCURRENCY.md.
 */
final class ReplicatedKafkaCache<K, V> implements Cache<K, V>, ReplicatedCache<K, V>, MetricsSource {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  private static final long PROGRESS_LOG_INTERVAL_MS = 5_000;

  private final CacheConfig config;
  private final ReplicationOptions options;
  private final String topic;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  private final InstantSource clock;
  private final StatsCounter stats;
  private final Consumer<Cache<?, ?>> onClose;
  private final Admin admin;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<TopicPartition> partitions;
  private final Replica<K, V> replica;
  private final SnapshotStore<K, V> snapshots;
  private final ReadBarriers barriers;
  private final Writer<K, V> writer;
  private final CacheWrites<K, V> writes;
  private final Housekeeping<K, V> housekeeping;
  private final ConcurrentHashMap<K, CompletableFuture<@Nullable V>> loads = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch readyLatch = new CountDownLatch(1);
  private final Thread applier;
  /** Batches polled by the fetch thread, waiting to be applied; a few, so memory stays bounded. */
  private final BlockingQueue<Fetched> fetched = new ArrayBlockingQueue<>(4);
  private volatile @Nullable Thread fetcher;
  private volatile boolean consumerOwnedByFetcher;
  private final AsyncCache<K, V> async;

  // Written by the apply thread, read by any.
  private volatile boolean ready;
  private volatile long @Nullable [] endAtStart;
  private volatile long replayTarget = -1;
  private volatile long lagRecords;
  private volatile long lagMillis;
  private volatile @Nullable Throwable applierFailure;
  private final LongAdder replayed = new LongAdder();

  // Apply thread only.
  private long nextProgressLog;
  private long replayStartedNanos;

  /** One poll's records, the consumer's positions after them, and the records still behind. */
  private record Fetched(ConsumerRecords<byte[], byte[]> records, long[] positions, long lag) {}

  @SuppressWarnings("unchecked")
  ReplicatedKafkaCache(
      CacheConfig config, ReplicationOptions options, Admin admin, TopicSetup.TopicInfo topicInfo,
      Consumer<Cache<?, ?>> onClose) {
    int partitionCount = topicInfo.partitions();
    this.config = config;
    this.options = options;
    this.topic = options.topicFor(config.name());
    this.keyCodec = (Codec<K>) config.keyCodec();
    this.valueCodec = (Codec<V>) config.valueCodec();
    this.clock = config.clock();
    this.stats = config.recordStats() ? StatsCounter.concurrent() : StatsCounter.disabled();
    this.onClose = onClose;
    this.admin = admin;
    List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitionCount; p++) {
      tps.add(new TopicPartition(topic, p));
    }
    this.partitions = List.copyOf(tps);
    String clientId = "cachet-" + config.name() + "-" + options.nodeId();
    this.snapshots = new SnapshotStore<>(config.name(), options, topicInfo, keyCodec, valueCodec, clock);
    this.replica = snapshots.replica();
    this.barriers = new ReadBarriers(config.name(), options, admin, partitions, replica, closed);
    KafkaProducer<byte[], byte[]> p = null;
    try {
      p = new KafkaProducer<>(KafkaClients.producer(options, clientId + "-producer"));
      this.consumer = new KafkaConsumer<>(KafkaClients.consumer(options, clientId + "-consumer"));
    } catch (KafkaException e) {
      if (p != null) {
        p.close(Duration.ZERO);
      }
      throw new CacheException("could not create the Kafka clients of cache '" + config.name() + "': " + e, e);
    }
    this.writer = new Writer<>(config.name(), options, keyCodec, valueCodec, clock, replica, partitions, admin, p,
        closed, () -> applierFailure);
    this.writes = new CacheWrites<>(config.name(), config.perEntryTtl(), config.maximumSize(),
        config.expireAfterWrite().orElse(null), clock, stats, replica, writer, this::requireWritable);
    this.async = new AsyncView<>(this, writes, config.executor());
    this.housekeeping = new Housekeeping<>(options.nodeId(), replica, writer, snapshots);
    this.applier = new Thread(this::runApplier, "cachet-replica-" + config.name());
    applier.setDaemon(true);
    applier.start();
  }

  // ------------------------------------------------------------------ apply thread

  private void runApplier() {
    try {
      consumer.assign(partitions);
      boolean fromSnapshot = false;
      long[] startPositions = snapshots.startPositions();
      for (TopicPartition tp : partitions) {
        long position = startPositions[tp.partition()];
        fromSnapshot |= position > 0;
        consumer.seek(tp, position);
      }
      long[] ends = fetchEndOffsets();
      if (ends == null) {
        return;
      }
      if (fromSnapshot && !snapshots.fits(partitions, consumer.beginningOffsets(partitions, Duration.ofSeconds(30)),
          ends)) {
        replica.reset();
        consumer.seekToBeginning(partitions);
      }
      endAtStart = ends;
      long target = 0;
      for (int p = 0; p < ends.length; p++) {
        target += Math.max(0, ends[p] - replica.position(p));
      }
      replayTarget = target;
      replayStartedNanos = System.nanoTime();
      LOG.info("Cache '{}' (node {}) replaying topic '{}': {} record(s) to apply", config.name(), options.nodeId(),
          topic, target);
      checkReady();
      // From here the fetch thread owns the consumer: parsing fetched batches overlaps with
      // applying the previous ones (measured: most of a replay is this thread's CPU).
      Thread fetcher = new Thread(this::runFetcher, "cachet-fetch-" + config.name());
      fetcher.setDaemon(true);
      consumerOwnedByFetcher = true;
      this.fetcher = fetcher;
      fetcher.start();
      while (!closed.get() && applierFailure == null) {
        Fetched batch = fetched.poll(100, TimeUnit.MILLISECONDS);
        long now = clock.millis();
        if (batch != null) {
          for (ConsumerRecord<byte[], byte[]> record : batch.records()) {
            applyRecord(record, now);
          }
          for (TopicPartition tp : batch.records().partitions()) {
            replica.advance(tp.partition(), batch.positions()[tp.partition()]);
          }
          updateLag(batch, now);
        }
        checkReady();
        barriers.check();
        if (ready) {
          housekeeping.run(now);
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
      }
      if (!consumerOwnedByFetcher) {
        closeConsumer();
      }
    }
  }

  /** Polls the consumer and hands each batch, with the positions after it, to the apply thread. */
  private void runFetcher() {
    try {
      while (!closed.get() && applierFailure == null) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        long[] positions = new long[partitions.size()];
        for (TopicPartition tp : records.partitions()) {
          positions[tp.partition()] = consumer.position(tp);
        }
        long lag = 0;
        for (TopicPartition tp : partitions) {
          lag += consumer.currentLag(tp).orElse(0);
        }
        Fetched batch = new Fetched(records, positions, lag);
        if (records.isEmpty()) {
          fetched.offer(batch); // only news about the lag: dropped when the apply thread is busy
        } else {
          fetched.put(batch);
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
      closeConsumer();
    }
  }

  private void closeConsumer() {
    try {
      consumer.close(Duration.ofSeconds(2));
    } catch (RuntimeException e) {
      LOG.debug("Closing the consumer of cache '{}' failed", config.name(), e);
    }
  }

  /** Returns the end offsets taken at start, retrying while the brokers are unreachable; null once closed. */
  private long @Nullable [] fetchEndOffsets() {
    boolean warned = false;
    while (!closed.get()) {
      try {
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(5));
        long[] result = new long[partitions.size()];
        for (TopicPartition tp : partitions) {
          result[tp.partition()] = ends.get(tp);
        }
        return result;
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        if (!warned) {
          LOG.warn("Cache '{}' cannot reach Kafka at {} to read the end of topic '{}'; not ready, still trying",
              config.name(), options.bootstrapServers(), topic);
          warned = true;
        }
      }
    }
    return null;
  }

  private void applyRecord(ConsumerRecord<byte[], byte[]> record, long now) {
    Header header = record.headers().lastHeader(RecordMeta.HEADER);
    Replica.Outcome<K> outcome = replica.apply(record.partition(), record.offset(), record.timestamp(), record.key(),
        record.value(), header == null ? null : header.value(), now);
    replayed.increment();
    if (outcome == null || !outcome.decodable()) {
      LOG.warn("Cache '{}' skipped the record at {}-{} offset {}: not written by Cachet ({}); skipped records: {}",
          config.name(), topic, record.partition(), record.offset(),
          outcome == null ? "its key cannot be decoded"
              : outcome.meta() == null ? "no decodable '" + RecordMeta.HEADER + "' header"
              : "its value cannot be decoded by " + valueCodec,
          replica.skippedRecords());
    }
    if (outcome == null || outcome.meta() == null) {
      return;
    }
    RecordMeta meta = outcome.meta();
    writer.onApplied(meta, outcome, record.partition(), record.offset());
  }

  /** Records behind the end of the topic, and how old the newest applied record was; 0 ms when caught up. */
  private void updateLag(Fetched batch, long now) {
    ConsumerRecords<byte[], byte[]> records = batch.records();
    lagRecords = batch.lag();
    if (batch.lag() == 0) {
      lagMillis = 0;
    } else if (!records.isEmpty()) {
      long newest = Long.MIN_VALUE;
      for (TopicPartition tp : records.partitions()) {
        List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
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
        config.name(), options.nodeId(), count, topic, String.format("%.2f", seconds),
        seconds > 0 ? Math.round(count / seconds) : count, replica.size());
    ready = true;
    readyLatch.countDown();
  }

  private void logProgress() {
    long nowNanos = System.nanoTime();
    if (nowNanos - nextProgressLog < 0) {
      return;
    }
    if (nextProgressLog != 0) {
      long count = replayed.sum();
      double seconds = (nowNanos - replayStartedNanos) / 1e9;
      LOG.info("Cache '{}' replaying topic '{}': {} of {} record(s) ({}%), {} records/s", config.name(), topic, count,
          replayTarget, replayTarget <= 0 ? 100 : Math.min(100, count * 100 / replayTarget),
          seconds > 0 ? Math.round(count / seconds) : count);
    }
    nextProgressLog = nowNanos + TimeUnit.MILLISECONDS.toNanos(PROGRESS_LOG_INTERVAL_MS);
  }

  private void fail(Throwable t) {
    applierFailure = t;
    readyLatch.countDown();
    LOG.error("Cache '{}': the replica of topic '{}' stopped applying records; the cache no longer changes and"
        + " must be recreated", config.name(), topic, t);
    CacheException failure = new CacheException("the replica of cache '" + config.name() + "' stopped: " + t, t);
    writer.failAll(failure);
    barriers.failAll(failure);
  }

  // ------------------------------------------------------------------ writing

  // ------------------------------------------------------------------ Cache

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public CacheConfig config() {
    return config;
  }

  @Override
  public @Nullable V get(K key) {
    requireNonNull(key, "key");
    requireReadable();
    if (options.readLatest()) {
      join(barriers.barrier());
    }
    return read(key);
  }

  private @Nullable V read(K key) {
    Entry<V> entry = replica.get(key);
    if (entry != null && entry.isLive(clock.millis())) {
      stats.recordHits(1);
      return entry.value();
    }
    stats.recordMisses(1);
    return null;
  }

  @Override
  public @Nullable V get(K key, Function<? super K, ? extends @Nullable V> loader) {
    requireNonNull(key, "key");
    requireNonNull(loader, "loader");
    V hit = get(key);
    if (hit != null) {
      return hit;
    }
    CompletableFuture<@Nullable V> mine = new CompletableFuture<>();
    CompletableFuture<@Nullable V> theirs = loads.putIfAbsent(key, mine);
    if (theirs != null) {
      return join(theirs);
    }
    try {
      V present = read(key);
      if (present != null) {
        mine.complete(present);
        return present;
      }
      long started = config.ticker().read();
      V loaded;
      try {
        loaded = loader.apply(key);
      } catch (RuntimeException | Error e) {
        stats.recordLoadFailure(config.ticker().read() - started);
        CacheLoadException failure = e instanceof CacheLoadException c ? c
            : new CacheLoadException("loading key '" + key + "' of cache '" + name() + "' failed", e);
        mine.completeExceptionally(failure);
        throw failure;
      }
      stats.recordLoadSuccess(config.ticker().read() - started);
      if (loaded == null) {
        mine.complete(null);
        return null;
      }
      V value = loaded;
      V winner = join(writes.write(key, Op.PUT_IF_ABSENT, (live, now) -> live != null
          ? CacheWrites.restate(Op.PUT_IF_ABSENT, live, a -> live.value())
          : writes.admit(key, live,
              new Decision<>(Op.PUT_IF_ABSENT, true, value, writes.deadlineFor(null, now), a -> value))));
      mine.complete(winner);
      return winner;
    } catch (RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      loads.remove(key, mine);
    }
  }

  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    requireReadable();
    List<K> list = new ArrayList<>();
    for (K key : keys) {
      list.add(requireNonNull(key, "key"));
    }
    if (options.readLatest()) {
      join(barriers.barrier());
    }
    Map<K, V> found = new LinkedHashMap<>();
    for (K key : list) {
      V value = read(key);
      if (value != null) {
        found.put(key, value);
      }
    }
    return found;
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
    entries.forEach((k, v) -> {
      requireNonNull(k, "key");
      requireNonNull(v, "value");
    });
    List<CompletableFuture<Void>> puts = new ArrayList<>();
    entries.forEach((k, v) -> puts.add(writes.put(k, v, null)));
    join(CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)));
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
    join(writes.clear());
  }

  @Override
  public long estimatedSize() {
    requireOpen();
    return replica.size();
  }

  @Override
  public CacheStats stats() {
    requireOpen();
    return stats.snapshot();
  }

  @Override
  public AsyncCache<K, V> async() {
    requireOpen();
    return async;
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new IllegalArgumentException("cache '" + name() + "' cannot be unwrapped to " + type.getName()
        + "; it is a " + ReplicatedCache.class.getName());
  }

  @Override
  public boolean isClosed() {
    return closed.get();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      consumer.wakeup();
      Thread fetch = fetcher;
      if (fetch != null) {
        fetch.interrupt();
      }
      applier.join(TimeUnit.SECONDS.toMillis(30));
      if (fetch != null) {
        fetch.join(TimeUnit.SECONDS.toMillis(30));
      }
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
    readyLatch.countDown();
    onClose.accept(this);
  }

  // ------------------------------------------------------------------ ReplicatedCache

  @Override
  public boolean isReady() {
    return ready;
  }

  @Override
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    requireNonNull(timeout, "timeout");
    requireOpen();
    readyLatch.await(Math.max(0, Checks.saturatedNanos(timeout)), TimeUnit.NANOSECONDS);
    requireOpen();
    return ready;
  }

  @Override
  public @Nullable V readLatest(K key) {
    requireNonNull(key, "key");
    requireReadable();
    join(barriers.barrier());
    return read(key);
  }

  /** Returns the value of {@code key} once readable, after a read barrier when {@code readLatest} is set. */
  CompletableFuture<@Nullable V> getAsync(K key) {
    requireReadable();
    return options.readLatest()
        ? barriers.barrier().thenApply(x -> read(key))
        : CompletableFuture.completedFuture(read(key));
  }

  @Override
  public ReplicationStatus status() {
    long target = replayTarget;
    return new ReplicationStatus(options.nodeId(), topic, ready, replayed.sum(), Math.max(target, 0), lagRecords,
        lagMillis, replica.size());
  }

  // ------------------------------------------------------------------ metrics

  @Override
  public List<BackendMetric> backendMetrics() {
    return List.of(
        new BackendMetric("cache.replication.lag.records", "Records in the topic not yet applied here",
            BackendMetric.Kind.GAUGE, () -> lagRecords),
        new BackendMetric("cache.replication.lag.ms", "Age of the newest applied record when it was applied",
            BackendMetric.Kind.GAUGE, () -> lagMillis),
        new BackendMetric("cache.replication.replay.progress", "Start-up replay progress, 0 to 1",
            BackendMetric.Kind.GAUGE, () -> status().replayProgress()),
        new BackendMetric("cache.replication.ready", "1 once the start-up replay has finished",
            BackendMetric.Kind.GAUGE, () -> ready ? 1 : 0),
        new BackendMetric("cache.replication.writes.waiting", "Writes waiting for their record to be applied",
            BackendMetric.Kind.GAUGE, writer::waiting),
        new BackendMetric("cache.replication.records.applied", "Records applied", BackendMetric.Kind.COUNTER,
            replica::appliedRecords),
        new BackendMetric("cache.replication.records.skipped", "Records skipped as undecodable",
            BackendMetric.Kind.COUNTER, replica::skippedRecords),
        new BackendMetric("cache.replication.writes.retried", "Conditional writes retried after a concurrent write",
            BackendMetric.Kind.COUNTER, writer::retried),
        new BackendMetric("cache.replication.anchors", "Anchor records written for unanchored keys",
            BackendMetric.Kind.COUNTER, housekeeping::anchors),
        new BackendMetric("cache.replication.expired.removed", "Removal records written for expired entries",
            BackendMetric.Kind.COUNTER, housekeeping::expiredRemovals));
  }

  // ------------------------------------------------------------------ helpers

  private void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("cache '" + name() + "' is closed");
    }
  }

  private void requireReadable() {
    requireOpen();
    Throwable failure = applierFailure;
    if (failure != null) {
      throw new CacheException("the replica of cache '" + name() + "' stopped applying records: " + failure, failure);
    }
    if (!ready) {
      ReplicationStatus s = status();
      throw new CacheNotReadyException("cache '" + name() + "' is still replaying topic '" + topic + "': "
          + s.replayedRecords() + " of " + s.replayTarget() + " record(s) applied", null);
    }
  }

  private void requireWritable() {
    requireReadable();
  }

  /** Waits for a write or barrier, bounded so that no caller hangs; rethrows its failure unchanged. */
  private <T> T join(CompletableFuture<T> future) {
    try {
      return future.get(2 * options.writeTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while waiting for cache '" + name() + "'", e);
    } catch (TimeoutException e) {
      throw new ReplicationTimeoutException("cache '" + name() + "' did not answer in time", 0, -1,
          replica.position(0), e);
    } catch (ExecutionException e) {
      Throwable cause = Futures.unwrap(e);
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new CacheException("cache '" + name() + "' failed: " + cause, cause);
    }
  }
}
