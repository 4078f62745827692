package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.MetricsSource;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Reads and writes a cache topic's raw records, for tests that write records no cache would write
 * on its own (a void record as its key's latest) or that simulate Kafka's log cleaner.
 */
final class TopicLog {

  private TopicLog() {}

  /** Reads partition 0 of {@code topic} from its start to its current end. */
  static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic) {
    TopicPartition tp = new TopicPartition(topic, 0);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName(),
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName()))) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      assertThat(consumer.position(tp)).as("read %s to its end", topic).isGreaterThanOrEqualTo(end);
      return records;
    }
  }

  /** What Kafka's cleaner leaves once every record is older than min.compaction.lag.ms: each key's latest record. */
  static List<ConsumerRecord<byte[], byte[]>> compacted(List<ConsumerRecord<byte[], byte[]>> records) {
    Map<ByteBuffer, ConsumerRecord<byte[], byte[]>> latest = new LinkedHashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      ByteBuffer key = ByteBuffer.wrap(r.key());
      latest.remove(key);
      latest.put(key, r);
    }
    return new ArrayList<>(latest.values());
  }

  /**
   * Writes records, key, value and headers as given, to partition 0 of the empty {@code topic}, each
   * at its original offset, as Kafka's cleaner leaves them: the gaps are filled with records a
   * replica skips (no Cachet header, a key no codec of the tests decodes). Offsets matter: a
   * conditional record is void unless its expected offset is below its own.
   */
  static void appendAtOriginalOffsets(String bootstrap, String topic, List<ConsumerRecord<byte[], byte[]>> records) {
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    long next = 0;
    for (ConsumerRecord<byte[], byte[]> r : records) {
      for (; next < r.offset(); next++) {
        out.add(new ProducerRecord<>(topic, 0, new byte[] {(byte) 0xFF}, new byte[0]));
      }
      out.add(new ProducerRecord<>(topic, 0, r.key(), r.value(), r.headers()));
      next++;
    }
    send(bootstrap, out);
  }

  /** Appends one record with Cachet's metadata header. */
  static ProducerRecord<byte[], byte[]> record(String topic, byte[] key, byte[] value, RecordMeta meta) {
    return new ProducerRecord<>(topic, 0, key, value, List.of(new RecordHeader(RecordMeta.HEADER, meta.encode())));
  }

  /** Sends records in order and waits until each is acknowledged. */
  static void send(String bootstrap, List<ProducerRecord<byte[], byte[]>> records) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()))) {
      for (ProducerRecord<byte[], byte[]> r : records) {
        producer.send(r).get(30, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot write to " + bootstrap, e);
    }
  }

  /** Returns the current value of one of a cache's backend metrics. */
  static double metric(Cache<?, ?> cache, String name) {
    return cache.unwrap(MetricsSource.class).backendMetrics().stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .map(BackendMetric::value)
        .orElseThrow(() -> new AssertionError("no metric " + name))
        .getAsDouble();
  }
}
