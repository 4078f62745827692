package io.cachet.replicated;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cachet.BackendUnavailableException;
import io.cachet.codec.Codecs;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.KafkaFutureImpl;
import org.junit.jupiter.api.Test;

/** A read barrier's failures say what happened: Kafka unreachable, or this replica behind. */
final class ReadBarriersTest {

  /**
   * Kafka never answers where the topic ends (brokers unreachable): the barrier fails as the outage
   * it is, within the write timeout, naming no offsets it never learnt. It used to fail as a
   * replica behind an end offset of 0.
   */
  @Test
  void kafkaNotAnsweringTheEndOffsets_isBackendUnavailable() {
    Admin silent = (Admin) Proxy.newProxyInstance(Admin.class.getClassLoader(), new Class<?>[] {Admin.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "listOffsets" -> new ListOffsetsResult(Map.of(new TopicPartition("t", 0), new KafkaFutureImpl<>()));
          case "toString" -> "silent admin";
          default -> throw new UnsupportedOperationException(method.getName());
        });
    ReplicationOptions options = ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").topic("t")
        .writeTimeout(Duration.ofMillis(300)).build();
    Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
    replica.advance(0, 42);
    ReadBarriers barriers = new ReadBarriers("c", options, silent, List.of(new TopicPartition("t", 0)), replica,
        new AtomicBoolean());

    Throwable failure = catchThrowable(() -> barriers.barrier().get(5, SECONDS));

    assertThat(failure).isInstanceOf(ExecutionException.class);
    assertThat(failure.getCause()).isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("did not return the end of topic 't' within PT0.3S");
  }
}
