package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.FakeTicker;
import io.cachet.codec.Codec;
import io.cachet.metrics.CacheMetrics;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Records that another producer put into a cache's topic: each is skipped (counted, logged at
 * WARN), never changes state, never stops the replica, and a key it touched is anchored later.
 *
 * <p>Node "a" reads a {@link FakeTicker} as its wall clock, so the test moves it past
 * {@link Housekeeping#FALLBACK_DELAY_MS} instead of waiting 30 s for the anchor.
 */
@Tag("kafka")
final class BadRecordsIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static final String SKIPPED = "cache.replication.records.skipped";
  private static final String ANCHORS = "cache.replication.anchors";

  private static KafkaProducer<byte[], byte[]> foreign;

  private final List<CacheManager> managers = new ArrayList<>();

  /** What a foreign producer writes for key "k" (or for no key). */
  enum BadRecord {
    NO_HEADER(true) {
      @Override
      ProducerRecord<byte[], byte[]> record(String topic) {
        return new ProducerRecord<>(topic, 0, bytes("k"), bytes("foreign"));
      }
    },
    GARBAGE_HEADER(true) {
      @Override
      ProducerRecord<byte[], byte[]> record(String topic) {
        return new ProducerRecord<>(topic, 0, bytes("k"), bytes("foreign"),
            List.<Header>of(new RecordHeader(RecordMeta.HEADER, bytes("not cachet metadata at all"))));
      }
    },
    UNDECODABLE_KEY(false) {
      @Override
      ProducerRecord<byte[], byte[]> record(String topic) {
        RecordMeta meta = new RecordMeta(RecordMeta.Op.PUT, false, 0, 0, 42L, 1L, "foreign");
        return new ProducerRecord<>(topic, 0, new byte[] {(byte) 0xC3, 0x28}, bytes("foreign"),
            List.<Header>of(new RecordHeader(RecordMeta.HEADER, meta.encode())));
      }
    },
    NULL_KEY(false) {
      @Override
      ProducerRecord<byte[], byte[]> record(String topic) {
        RecordMeta meta = new RecordMeta(RecordMeta.Op.PUT, false, 0, 0, 42L, 1L, "foreign");
        return new ProducerRecord<>(topic, 0, (byte[]) null, bytes("foreign"),
            List.<Header>of(new RecordHeader(RecordMeta.HEADER, meta.encode())));
      }

      /**
       * A compacted topic refuses records without a key, so this takes an operator switching the
       * topic to the delete policy for a while.
       */
      @Override
      long send(String topic) {
        TestTopics.alter(KAFKA.broker(), topic, Map.of("cleanup.policy", "delete"));
        try {
          ProducerRecord<byte[], byte[]> record = record(topic);
          return await().atMost(Duration.ofSeconds(30))
              .ignoreException(ExecutionException.class)
              .until(() -> foreign.send(record).get(30, TimeUnit.SECONDS).offset(), offset -> offset >= 0);
        } finally {
          TestTopics.alter(KAFKA.broker(), topic, Map.of("cleanup.policy", "compact"));
        }
      }
    };

    /** Whether the record names key "k", which it then leaves unanchored. */
    final boolean touchesKey;

    BadRecord(boolean touchesKey) {
      this.touchesKey = touchesKey;
    }

    abstract ProducerRecord<byte[], byte[]> record(String topic);

    /** Writes the record and returns its offset. */
    long send(String topic) throws Exception {
      return foreign.send(record(topic)).get(30, TimeUnit.SECONDS).offset();
    }
  }

  @BeforeAll
  static void createProducer() {
    foreign = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.broker().bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()));
  }

  @AfterAll
  static void closeProducer() {
    foreign.close(Duration.ofSeconds(5));
  }

  @AfterEach
  void closeManagers() {
    managers.forEach(CacheManager::close);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(BadRecord.class)
  void apply_foreignRecord_skippedWithoutChangingStateOrStopping(BadRecord bad) throws Exception {
    String topic = newTopic();
    FakeTicker clock = new FakeTicker(Instant.now());
    MeterRegistry registry = new SimpleMeterRegistry();
    Cache<String, String> a = CacheMetrics.monitor(registry, newNode(topic, "a", clock));
    a.put("k", "before");
    a.put("other", "kept");

    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      long badOffset = bad.send(topic);
      a.put("later", "applied");

      // Not stuck: the node's own later record was applied after the foreign one.
      assertThat(a.get("later")).isEqualTo("applied");
      assertThat(a.get("k")).as("a foreign record never changes state").isEqualTo("before");
      assertThat(a.get("other")).isEqualTo("kept");
      assertThat(a.estimatedSize()).isEqualTo(3);
      assertThat(registry.get(SKIPPED).functionCounter().count()).isEqualTo(1.0);
      assertThat(metric(a, SKIPPED)).isEqualTo(1.0);

      // A node that starts now replays through the foreign record to the same state.
      Cache<String, String> b = newNode(topic, "b", InstantSource.system());
      assertThat(b.unwrap(ReplicatedCache.class).isReady()).isTrue();
      assertThat(b.getAll(List.of("k", "other", "later")))
          .isEqualTo(Map.of("k", "before", "other", "kept", "later", "applied"));
      assertThat(metric(b, SKIPPED)).isEqualTo(1.0);

      if (bad.touchesKey) {
        // Compaction may keep only the foreign record of "k": after the grace period a node
        // restates the key in an anchor record.
        clock.advance(Duration.ofMillis(Housekeeping.FALLBACK_DELAY_MS).plusSeconds(1));
        await().atMost(Duration.ofSeconds(30)).until(() -> metric(a, ANCHORS) == 1.0);
        ConsumerRecord<byte[], byte[]> last = lastRecordOf(topic, "k");
        assertThat(last.offset()).isGreaterThan(badOffset);
        RecordMeta meta = RecordMeta.decode(last.headers().lastHeader(RecordMeta.HEADER).value());
        assertThat(meta).isNotNull();
        assertThat(meta.op()).isEqualTo(RecordMeta.Op.ANCHOR);
        assertThat(meta.nodeId()).isEqualTo("a");
        assertThat(new String(last.value(), UTF_8)).isEqualTo("before");
        assertThat(replicated(a).readLatest("k")).isEqualTo("before");
        assertThat(replicated(b).readLatest("k")).isEqualTo("before");
      }

      assertThat(logs.warnings())
          .as("the skipped record is logged at WARN with where it is")
          .anySatisfy(w -> assertThat(w).contains(topic).contains("offset " + badOffset));
    }
  }

  /**
   * A rolling upgrade: node "b" runs a newer codec whose values node "a" cannot decode. Node "a"
   * applies b's record all the same: reads of the key fail there, writes that depend on its value
   * are refused, and "a" never restates its older value over the acknowledged one (which it used to
   * do in an anchor, on every node). A foreign record of another key shows when a's anchors ran.
   */
  @Test
  void valueThisNodesCodecCannotDecode_failsReadsHere_andIsNeverAnchoredOver() throws Exception {
    String topic = newTopic();
    FakeTicker clock = new FakeTicker(Instant.now());
    Codec<String> older = TestCodecs.utf8(value -> { }, bytes -> {
      if (new String(bytes, UTF_8).startsWith("v2:")) {
        throw new IllegalArgumentException("unknown format");
      }
    });
    Cache<String, String> a = newNode(topic, "a", clock, older);
    Cache<String, String> b = newNode(topic, "b", InstantSource.system());
    a.put("k", "before");

    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      foreign.send(new ProducerRecord<>(topic, 0, bytes("witness"), bytes("foreign"))).get(30, TimeUnit.SECONDS);
      b.put("k", "v2:acknowledged");
      long unreadableOffset = lastRecordOf(topic, "k").offset();
      a.put("later", "applied"); // after b's record in the log: "a" has applied it

      assertThatThrownBy(() -> a.get("k")).isInstanceOf(io.cachet.CacheException.class)
          .hasMessageContaining("key 'k'").hasMessageContaining("unknown format");
      assertThatThrownBy(() -> a.replace("k", "before", "mine")).isInstanceOf(io.cachet.CacheException.class)
          .hasMessageContaining("key 'k'");
      assertThatThrownBy(() -> a.get("k", key -> "loaded")).isInstanceOf(io.cachet.CacheException.class)
          .hasMessageContaining("key 'k'");
      assertThatThrownBy(() -> a.async().get("k").toCompletableFuture().join()).hasCauseInstanceOf(io.cachet.CacheException.class);
      assertThatThrownBy(() -> a.getAll(List.of("later", "k"))).isInstanceOf(io.cachet.CacheException.class);
      assertThat(a.get("later")).isEqualTo("applied");
      assertThat(metric(a, "cache.replication.records.unreadable")).isEqualTo(1.0);
      assertThat(metric(a, SKIPPED)).as("the witness only").isEqualTo(1.0);

      clock.advance(Duration.ofMillis(Housekeeping.FALLBACK_DELAY_MS).plusSeconds(1));
      await().atMost(Duration.ofSeconds(30)).until(() -> metric(a, ANCHORS) == 1.0); // the witness's
      a.put("flush", "x"); // queued behind any anchor of that run: in the log after it
      ConsumerRecord<byte[], byte[]> last = lastRecordOf(topic, "k");
      assertThat(last.offset()).as("no anchor of 'k' after b's record").isEqualTo(unreadableOffset);
      assertThat(metric(a, ANCHORS)).isEqualTo(1.0);
      assertThat(b.get("k")).isEqualTo("v2:acknowledged");
      assertThat(newNode(topic, "c", InstantSource.system()).get("k")).isEqualTo("v2:acknowledged");

      a.put("k", "plain"); // a write that does not depend on the value replaces it
      assertThat(a.get("k")).isEqualTo("plain");
      await().atMost(Duration.ofSeconds(30)).until(() -> "plain".equals(b.get("k")));
      assertThat(logs.warnings())
          .as("logged at WARN with where it is")
          .anySatisfy(w -> assertThat(w).contains("cannot decode the value").contains("offset " + unreadableOffset));
    }
  }

  @Test
  void apply_foreignRecordsOfEveryKind_replicasStayEqual() throws Exception {
    String topic = newTopic();
    Cache<String, String> a = newNode(topic, "a", InstantSource.system());
    Cache<String, String> b = newNode(topic, "b", InstantSource.system());
    for (int round = 0; round < 5; round++) {
      a.put("k", "a-" + round);
      for (BadRecord bad : BadRecord.values()) {
        bad.send(topic);
      }
      b.put("k", "b-" + round);
      assertThat(b.get("k")).isEqualTo("b-" + round);
    }

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(a.get("k")).isEqualTo("b-4"));
    assertThat(metric(a, SKIPPED)).isEqualTo(5.0 * BadRecord.values().length);
    assertThat(metric(b, SKIPPED)).isEqualTo(5.0 * BadRecord.values().length);
    Cache<String, String> c = newNode(topic, "c", InstantSource.system());
    assertThat(c.get("k")).isEqualTo("b-4");
    assertThat(metric(c, SKIPPED)).isEqualTo(5.0 * BadRecord.values().length);
  }

  @Test
  void foreignTransaction_itsCommitMarkerDoesNotKeepTheReplicaBehindTheLog() throws Exception {
    String topic = newTopic();
    Cache<String, String> a = newNode(topic, "a", InstantSource.system());
    a.put("k", "v");
    try (KafkaProducer<byte[], byte[]> transactional = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.broker().bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "foreign-" + topic,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()))) {
      transactional.initTransactions();
      transactional.beginTransaction();
      transactional.send(new ProducerRecord<>(topic, 0, bytes("foreign"), bytes("x"))).get(30, TimeUnit.SECONDS);
      // The node has applied (skipped) the record: the marker will come in a fetch of its own.
      await().atMost(Duration.ofSeconds(30)).until(() -> metric(a, SKIPPED) == 1.0);
      transactional.commitTransaction();
    }
    // The log now ends with the commit marker, which the consumer skips: it never returns it as a
    // record, but its position moves past it, and so must the replica's.
    assertThat(replicated(a).readLatest("k")).isEqualTo("v");
    assertThat(metric(a, SKIPPED)).isEqualTo(1.0);
    Cache<String, String> b = newNode(topic, "b", InstantSource.system());
    assertThat(b.unwrap(ReplicatedCache.class).isReady()).isTrue();
    assertThat(replicated(b).readLatest("k")).isEqualTo("v");
  }

  @Test
  void replicaThatStopsWhileStarting_failsCreate_insteadOfReturningACacheThatNeverGetsReady() {
    String topic = newTopic();
    newNode(topic, "a", InstantSource.system()).put("k", "poison");
    long replicaThreadsBefore = replicaThreads();
    // An Error, not a refusal: the replica cannot go on.
    Codec<String> failing = TestCodecs.utf8(value -> { }, bytes -> {
      throw new AssertionError("a codec bug");
    });
    assertThatThrownBy(() -> newNode(topic, "b", InstantSource.system(), failing))
        .isInstanceOf(io.cachet.CacheException.class)
        .hasMessageContaining("could not start: its replica stopped applying topic '" + topic + "'")
        .hasMessageContaining("a codec bug");
    // Closed, not left running: node "a"'s threads are the only ones of this cache's name again.
    await().atMost(Duration.ofSeconds(30)).until(() -> replicaThreads() == replicaThreadsBefore);
  }

  /** Live apply, fetch and send threads of caches named "bad-records", in this JVM. */
  private static long replicaThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && (t.getName().equals("cachet-replica-bad-records")
            || t.getName().equals("cachet-fetch-bad-records") || t.getName().equals("cachet-send-bad-records")))
        .count();
  }

  /** UTF-8 strings, but a value containing "unencodable" cannot be encoded. */
  private static final Codec<String> PICKY = TestCodecs.utf8(value -> {
    if (value.contains("unencodable")) {
      throw new IllegalArgumentException("cannot encode " + value);
    }
  }, bytes -> { });


  @Test
  void put_valueTheCodecCannotEncode_failsWithTheCodecsError_andLeavesNothingWaiting() {
    String topic = newTopic();
    Cache<String, String> a = newNode(topic, "a", InstantSource.system(), PICKY);
    a.put("k", "kept");
    for (int i = 0; i < 100; i++) {
      String value = "unencodable " + i;
      assertThatThrownBy(() -> a.put("k", value))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("cannot encode " + value);
    }
    assertThat(a.get("k")).as("nothing lost, nothing written").isEqualTo("kept");
    assertThat(metric(a, "cache.replication.writes.waiting")).as("no write left waiting").isZero();
    a.put("k", "later");
    assertThat(a.get("k")).isEqualTo("later");
  }

  private static String newTopic() {
    String topic = "bad-records-" + TOPICS.incrementAndGet();
    TestTopics.create(KAFKA.broker(), topic, 1);
    return topic;
  }

  private Cache<String, String> newNode(String topic, String nodeId, InstantSource clock) {
    return newNode(topic, nodeId, clock, io.cachet.codec.Codecs.utf8());
  }

  private Cache<String, String> newNode(String topic, String nodeId, InstantSource clock, Codec<String> values) {
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return manager.create(CacheConfig.builder("bad-records")
        .backend(ReplicatedCacheProvider.NAME)
        .valueCodec(values)
        .clock(clock)
        .backendOptions(ReplicationOptions.builder()
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic(topic)
            .nodeId(nodeId)
            .build())
        .build());
  }

  @SuppressWarnings("unchecked")
  private static ReplicatedCache<String, String> replicated(Cache<String, String> cache) {
    return cache.unwrap(ReplicatedCache.class);
  }

  private static double metric(Cache<String, String> cache, String name) {
    return TopicLog.metric(cache, name);
  }

  /** Reads the whole topic (partition 0) and returns the last record of {@code key}. */
  private static ConsumerRecord<byte[], byte[]> lastRecordOf(String topic, String key) {
    TopicPartition tp = new TopicPartition(topic, 0);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.broker().bootstrapServers(),
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName(),
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName()))) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      ConsumerRecord<byte[], byte[]> last = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.key() != null && key.equals(new String(r.key(), UTF_8))) {
            last = r;
          }
        }
      }
      assertThat(last).as("a record of key '%s' in %s", key, topic).isNotNull();
      return last;
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}
