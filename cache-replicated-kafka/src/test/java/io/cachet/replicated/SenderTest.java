package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The send thread: what it tells of records it drops, and that it outlives what callbacks throw. */
final class SenderTest {

  @Test
  void callbackThrowingAnErrorForADroppedRecord_doesNotStopTheSendThread() throws Exception {
    BlockingQueue<String> sent = new LinkedBlockingQueue<>();
    MockProducer<byte[], byte[]> producer =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
          @Override
          public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            sent.add(new String(record.key(), StandardCharsets.UTF_8));
            return super.send(record, callback);
          }
        };
    Sender sender = new Sender("errors", producer);
    try {
      assertThat(sender.offer(record("dropped"), (metadata, error) -> {
        throw new OutOfMemoryError("a callback out of memory");
      }, () -> true)).isTrue();
      assertThat(sender.offer(record("next"), (metadata, error) -> { }, () -> false)).isTrue();
      sender.start();

      assertThat(sent.poll(5, TimeUnit.SECONDS)).as("sent after the dropped record's callback threw").isEqualTo("next");
    } finally {
      sender.close();
    }
  }

  private static ProducerRecord<byte[], byte[]> record(String key) {
    return new ProducerRecord<>("t", 0, key.getBytes(StandardCharsets.UTF_8), new byte[0]);
  }
}
