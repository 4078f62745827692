package io.cachet.replicated;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cachet.BackendUnavailableException;
import io.cachet.codec.Codecs;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.common.KafkaFuture;
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

  /** Partition 0 ends at offset 10 and the replica has reached it; partition 1 has no leader: Kafka never answers. */
  private static ReadBarriers partitionOneWithoutALeader(Duration writeTimeout) {
    Admin admin = (Admin) Proxy.newProxyInstance(Admin.class.getClassLoader(), new Class<?>[] {Admin.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "listOffsets" -> {
            Map<TopicPartition, KafkaFuture<ListOffsetsResultInfo>> answers = new HashMap<>();
            for (Object tp : ((Map<?, ?>) args[0]).keySet()) {
              KafkaFutureImpl<ListOffsetsResultInfo> answer = new KafkaFutureImpl<>();
              if (((TopicPartition) tp).partition() == 0) {
                answer.complete(new ListOffsetsResultInfo(10, -1, Optional.empty()));
              }
              answers.put((TopicPartition) tp, answer);
            }
            yield new ListOffsetsResult(answers);
          }
          case "toString" -> "admin without a leader for partition 1";
          default -> throw new UnsupportedOperationException(method.getName());
        });
    ReplicationOptions options = ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").topic("t")
        .writeTimeout(writeTimeout).build();
    Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 2);
    replica.advance(0, 10);
    replica.advance(1, 5);
    return new ReadBarriers("c", options, admin, List.of(new TopicPartition("t", 0), new TopicPartition("t", 1)),
        replica, new AtomicBoolean());
  }

  @Test
  void barrierForOnePartition_doesNotWaitForAnotherWithoutALeader() throws Exception {
    ReadBarriers barriers = partitionOneWithoutALeader(Duration.ofSeconds(30));

    assertThat(barriers.barrier(0)).succeedsWithin(Duration.ofSeconds(5));
    assertThat(catchThrowable(() -> barriers.barrier(1).get(5, SECONDS)))
        .as("a read of partition 1 cannot know where it ends").isInstanceOf(TimeoutException.class);
  }

  @Test
  void barrierSkippingUnansweredPartitions_completesOnceTheOthersAreReached_afterHalfTheWriteTimeout() {
    ReadBarriers barriers = partitionOneWithoutALeader(Duration.ofMillis(600));

    assertThat(barriers.barrier(null, true)).succeedsWithin(Duration.ofSeconds(5));
    assertThat(barriers.barrier(null, false)).failsWithin(Duration.ofSeconds(5))
        .withThrowableOfType(ExecutionException.class).havingCause()
        .isInstanceOf(BackendUnavailableException.class).withMessageContaining("did not return the end of topic 't'");
  }
}
