package io.cachet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@code @Cacheable} on a replicated cache over a real Kafka, and its readiness in the health component. */
@Tag("kafka")
@SpringBootTest(classes = TestApp.class)
final class ReplicatedCachingIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    registry.add("cachet.caches.books.backend", () -> "replicated-kafka");
    registry.add("cachet.caches.books.value-codec", () -> "json:" + Book.class.getName());
    registry.add("cachet.caches.books.replicated-kafka.bootstrap-servers", () -> KAFKA.broker().bootstrapServers());
    registry.add("cachet.caches.books.replicated-kafka.topic", () -> "books-" + UUID.randomUUID());
  }

  @Autowired BookService books;
  @Autowired CachetHealthIndicator health;

  @Test
  void cacheableCachePutAndCacheEvict_goThroughTheReplica() {
    Book first = books.find("1");
    assertThat(books.find("1")).isEqualTo(first);
    assertThat(books.find("missing")).isNull();
    assertThat(books.find("missing")).isNull();
    assertThat(books.calls()).isEqualTo(2);

    books.save(new Book("1", "Saved"));
    assertThat(books.find("1").title()).isEqualTo("Saved");

    books.remove("1");
    assertThat(books.find("1").title()).startsWith("Title 1");
    assertThat(books.calls()).isEqualTo(3);
  }

  @Test
  @SuppressWarnings("unchecked")
  void health_reportsTheReplicaReadyWithItsReplayProgress() {
    Health report = health.health(true);

    assertThat(report.getStatus()).isEqualTo(Status.UP);
    Map<String, Object> caches = (Map<String, Object>) report.getDetails().get("caches");
    Map<String, Object> books = (Map<String, Object>) caches.get("books");
    assertThat(books).containsEntry("backend", "replicated-kafka").containsEntry("ready", true)
        .containsEntry("replayProgress", 1.0).containsKeys("replayedRecords", "lagRecords", "topic", "nodeId");
  }
}
