package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.replicated.RecordMeta.Op;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The records a node writes on its own: anchors for void records and removals of expired entries. */
@Tag("kafka")
final class HousekeepingIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();

  private final List<CacheManager> managers = new ArrayList<>();

  @AfterEach
  void close() {
    managers.forEach(CacheManager::close);
  }

  @Test
  void voidRecordWrittenAsThisNode_isAnchoredWithTheCurrentState() {
    String topic = "housekeeping-" + TOPICS.incrementAndGet();
    Cache<String, String> cache = node(topic, "a");
    cache.put("k", "current");
    long putOffset = offsets(topic).get(0);

    // A conditional record computed from a stale view, as a writer that died before retrying leaves it.
    RecordMeta stale = new RecordMeta(Op.REPLACE, true, putOffset - 1, 0, 12345, 1, "a");
    produce(topic, "k", "stale", stale);

    await().atMost(Duration.ofSeconds(30)).until(() -> lastRecordOf(topic, "k").op() == Op.ANCHOR);
    RecordMeta anchor = lastRecordOf(topic, "k");
    assertThat(anchor.conditional()).isTrue();
    assertThat(anchor.expected()).isEqualTo(putOffset + 1);
    assertThat(anchor.nodeId()).isEqualTo("a");
    assertThat(cache.get("k")).isEqualTo("current");
    assertThat(lastValueOf(topic, "k")).isEqualTo("current");
    // A node that replays only the anchor (what compaction may leave) agrees.
    Cache<String, String> other = node(topic, "b");
    assertThat(other.get("k")).isEqualTo("current");
  }

  @Test
  void expiredEntry_isRemovedFromTheTopicByItsWriter() {
    String topic = "housekeeping-" + TOPICS.incrementAndGet();
    Cache<String, String> writer = node(topic, "a");
    Cache<String, String> reader = node(topic, "b");
    writer.put("short", "v", Duration.ofMillis(500));
    writer.put("long", "v");

    await().atMost(Duration.ofSeconds(30)).until(() -> lastRecordOf(topic, "short").op() == Op.EXPIRED);
    assertThat(lastValueOf(topic, "short")).isNull();
    assertThat(lastRecordOf(topic, "short").nodeId()).isEqualTo("a");
    await().atMost(Duration.ofSeconds(10)).until(() -> writer.estimatedSize() == 1 && reader.estimatedSize() == 1);
    assertThat(reader.get("short")).isNull();
    assertThat(reader.get("long")).isEqualTo("v");
  }

  private Cache<String, String> node(String topic, String nodeId) {
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return manager.create(CacheConfig.builder("housekeeping")
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(ReplicationOptions.builder()
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic(topic)
            .nodeId(nodeId)
            .build())
        .build());
  }

  private static void produce(String topic, String key, String value, RecordMeta meta) {
    Properties p = new Properties();
    p.put("bootstrap.servers", KAFKA.broker().bootstrapServers());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, 0, null, key.getBytes(UTF_8), value.getBytes(UTF_8),
          List.<Header>of(new RecordHeader(RecordMeta.HEADER, meta.encode())))).get();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static List<ConsumerRecord<byte[], byte[]>> records(String topic) {
    Properties p = new Properties();
    p.put("bootstrap.servers", KAFKA.broker().bootstrapServers());
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
      while (consumer.position(tp) < end) {
        consumer.poll(Duration.ofMillis(200)).forEach(all::add);
      }
      return all;
    }
  }

  private static Map<Integer, Long> offsets(String topic) {
    List<ConsumerRecord<byte[], byte[]>> all = records(topic);
    return Map.of(0, all.get(all.size() - 1).offset());
  }

  private static ConsumerRecord<byte[], byte[]> last(String topic, String key) {
    ConsumerRecord<byte[], byte[]> last = null;
    for (ConsumerRecord<byte[], byte[]> r : records(topic)) {
      if (key.equals(new String(r.key(), UTF_8))) {
        last = r;
      }
    }
    return last;
  }

  private static RecordMeta lastRecordOf(String topic, String key) {
    return RecordMeta.decode(last(topic, key).headers().lastHeader(RecordMeta.HEADER).value());
  }

  private static String lastValueOf(String topic, String key) {
    byte[] value = last(topic, key).value();
    return value == null ? null : new String(value, UTF_8);
  }
}
