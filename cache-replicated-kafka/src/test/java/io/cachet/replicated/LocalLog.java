package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.CacheNotReadyException;
import io.cachet.FakeTicker;
import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import io.cachet.replicated.RecordMeta.Op;
import io.cachet.spi.StatsCounter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jspecify.annotations.Nullable;

/**
 * A replicated cache's write path without a broker: a {@link Writer} and its {@link CacheWrites}
 * over a one-partition {@link Replica}, with a {@link MockProducer} behind the send thread. The
 * test plays the log and the apply thread: it takes each record the writer sent ({@link #nextSent})
 * and applies it ({@link #apply}), after another node's records ({@link #applyOther}) if it likes.
 * Wall-clock time and the writer's timer (write timeouts) are one {@link FakeTicker}: a write
 * times out only when the test advances it, or after its write timeout in real time.
 */
final class LocalLog implements AutoCloseable {

  static final String NAME = "local";

  final FakeTicker clock = new FakeTicker(Instant.ofEpochMilli(1_700_000_000_000L));
  final StatsCounter stats = StatsCounter.concurrent();
  final Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
  /** The replica's view: confirmed caught up when the log is made; the test ages it with {@link #clock}. */
  final ViewAge viewAge = new ViewAge(clock, 1);
  final Writer<String, String> writer;
  final CacheWrites<String, String> writes;
  private final BlockingQueue<ProducerRecord<byte[], byte[]>> sent = new LinkedBlockingQueue<>();
  private final Sender sender;
  private long otherRequests;
  /** The keys whose loads in flight were told of a removal, in order. */
  final List<String> removing = new CopyOnWriteArrayList<>();
  /** The keys whose loads in flight were told of a write, in order. */
  final List<String> written = new CopyOnWriteArrayList<>();
  /** Whether the cache takes writes; false, as in a rebuild, fails writes with {@link CacheNotReadyException}. */
  volatile boolean writable = true;

  /** A cache of at most 10,000 keys that allows per-entry TTLs. */
  LocalLog() {
    this(10_000, true, Codecs.utf8());
  }

  /** @param writerKeys the key codec of the writer (the replica decodes with UTF-8) */
  LocalLog(long maximumSize, boolean perEntryTtl, Codec<String> writerKeys) {
    ReplicationOptions options = ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").nodeId("me").build();
    MockProducer<byte[], byte[]> producer =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
          @Override
          public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            Future<RecordMetadata> result = super.send(record, callback);
            sent.add(record);
            return result;
          }
        };
    sender = new Sender(NAME, producer);
    viewAge.allCaughtUpAsOf(clock.read());
    writer = new Writer<>(NAME, options, writerKeys, Codecs.utf8(), clock, replica, 1, sender, this::requireWritable,
        () -> null, clock, viewAge);
    writes = new CacheWrites<>(NAME, perEntryTtl, maximumSize, null, clock, stats, replica, writer,
        this::requireWritable, removing::add, written::add);
    sender.start();
  }

  private void requireWritable() {
    if (!writable) {
      throw new CacheNotReadyException("cache '" + NAME + "' is rebuilding its replica", null);
    }
  }

  /** Returns the next record the writer sent, waiting up to 5 s for it. */
  ProducerRecord<byte[], byte[]> nextSent() {
    try {
      ProducerRecord<byte[], byte[]> record = sent.poll(5, TimeUnit.SECONDS);
      assertThat(record).as("a record sent within 5 s").isNotNull();
      return record;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Returns whether the writer sent a record within {@code millis} ms (taking it if so). */
  boolean sentWithin(long millis) {
    try {
      return sent.poll(millis, TimeUnit.MILLISECONDS) != null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Applies {@code record} at the log's end, as the apply thread would, and tells the writer. */
  Replica.Outcome<String> apply(ProducerRecord<byte[], byte[]> record) {
    long offset = replica.position(0);
    long now = clock.millis();
    Replica.Outcome<String> outcome = replica.apply(0, offset, now, record.key(), record.value(),
        record.headers().lastHeader(RecordMeta.HEADER).value(), now);
    writer.onApplied(outcome.meta(), outcome, 0, offset);
    return outcome;
  }

  /** Applies another node's unconditional write of {@code key} at the log's end; deadline 0 for none. */
  void applyOther(String key, @Nullable String value, long deadline) {
    long now = clock.millis();
    RecordMeta meta = new RecordMeta(value == null ? Op.REMOVE : Op.PUT, false, 0, deadline, 42, ++otherRequests,
        "other");
    replica.apply(0, replica.position(0), now, key.getBytes(UTF_8), value == null ? null : value.getBytes(UTF_8),
        meta.encode(), now);
  }

  @Override
  public void close() {
    sender.close();
  }
}
