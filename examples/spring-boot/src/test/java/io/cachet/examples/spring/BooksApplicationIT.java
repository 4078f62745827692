package io.cachet.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachet.testkit.redis.RedisServerExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The example service over HTTP, on a real Redis, configured by its own application.yml. */
@Tag("redis")
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
final class BooksApplicationIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final Duration DEADLINE = Duration.ofSeconds(15);
  private static final ObjectMapper JSON = new ObjectMapper();

  @DynamicPropertySource
  static void redis(DynamicPropertyRegistry registry) {
    registry.add("REDIS_ADDRESS", () -> REDIS.server().uri());
  }

  @LocalServerPort int port;
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void getTwice_loadsOnceAndStoresJsonInRedis() throws Exception {
    long loadsBefore = loads();
    String first = send("GET", "/books/42", null).body();

    assertThat(send("GET", "/books/42", null).body()).isEqualTo(first);
    assertThat(loads()).isEqualTo(loadsBefore + 1);
    assertThat(REDIS.server().command("GET", "books:42")).asString().startsWith("{\"id\":\"42\",\"title\":\"Book 42\"");
  }

  @Test
  void putAndDelete_updateAndEvictTheCachedBook() throws Exception {
    send("PUT", "/books/7", "Renamed");
    assertThat(send("GET", "/books/7", null).body()).contains("\"title\":\"Renamed\"");

    send("DELETE", "/books/7", null);
    assertThat(REDIS.server().command("EXISTS", "books:7")).isEqualTo(0L);
    assertThat(send("GET", "/books/7", null).body()).contains("\"title\":\"Book 7\"");
  }

  @Test
  void health_showsTheRedisCacheTracking() {
    // Tracking is reported once the invalidation connection is up, which may follow start-up.
    await().atMost(DEADLINE).untilAsserted(() -> {
      HttpResponse<String> health = send("GET", "/actuator/health", null);
      assertThat(health.statusCode()).isEqualTo(200);
      JsonNode books = JSON.readTree(health.body()).path("components").path("cachet").path("details")
          .path("caches").path("books");
      assertThat(books.path("backend").asText()).isEqualTo("redis");
      assertThat(books.path("coherence").asText()).isEqualTo("tracking");
    });
  }

  /** Returns how many times the service read its slow store, from {@code GET /stats}. */
  private long loads() throws Exception {
    return JSON.readTree(send("GET", "/stats", null).body()).path("loads").asLong(-1);
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(DEADLINE)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "text/plain");
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
