package io.cachet.spring.boot;

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
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.cache.CacheManager;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A web application caching on a real Redis through the starter's properties only, with its
 * health and metrics checked over HTTP.
 */
@Tag("redis")
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
final class RedisCachingIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final String PREFIX = "books-" + UUID.randomUUID() + ":";
  private static final Duration DEADLINE = Duration.ofSeconds(15);

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    registry.add("cachet.caches.books.backend", () -> "redis");
    registry.add("cachet.caches.books.value-codec", () -> "json:" + Book.class.getName());
    registry.add("cachet.caches.books.expire-after-write", () -> "10m");
    registry.add("cachet.caches.books.redis.address", () -> REDIS.server().uri());
    registry.add("cachet.caches.books.redis.key-prefix", () -> PREFIX);
    registry.add("cachet.caches.counts.backend", () -> "redis");
    registry.add("cachet.caches.counts.value-codec", () -> "json:java.lang.Long");
    registry.add("cachet.caches.counts.redis.address", () -> REDIS.server().uri());
    registry.add("cachet.caches.counts.redis.key-prefix", () -> "counts-" + PREFIX);
    registry.add("management.endpoints.web.exposure.include", () -> "health,metrics");
    registry.add("management.endpoint.health.show-details", () -> "always");
  }

  @Autowired BookService books;
  @Autowired CacheManager cacheManager;
  @LocalServerPort int port;

  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  @BeforeEach
  void reset() {
    cacheManager.getCache("books").clear();
    cacheManager.getCache("counts").clear();
    books.reset();
  }

  @Test
  void cacheable_storesJsonInRedisAndReadsItBack() {
    Book first = books.find("1");

    assertThat(books.find("1")).isEqualTo(first);
    assertThat(books.calls()).isEqualTo(1);
    assertThat(REDIS.server().command("GET", PREFIX + "1"))
        .asString()
        .isEqualTo("{\"id\":\"1\",\"title\":\"" + first.title() + "\"}");
  }

  @Test
  void cacheable_cachesANullResultInRedis() {
    assertThat(books.find("missing")).isNull();
    assertThat(books.find("missing")).isNull();

    assertThat(books.calls()).isEqualTo(1);
    assertThat(REDIS.server().command("EXISTS", PREFIX + "missing")).isEqualTo(1L);
  }

  @Test
  void cachePutAndCacheEvict_writeThroughToRedis() {
    books.save(new Book("2", "Saved"));
    assertThat(REDIS.server().command("GET", PREFIX + "2")).asString().contains("Saved");

    books.remove("2");
    assertThat(REDIS.server().command("EXISTS", PREFIX + "2")).isEqualTo(0L);
  }

  @Test
  void completableFutureCacheable_onAMiss_runsTheMethodOffRedissonsEventLoop() throws Exception {
    for (int i = 0; i < 5; i++) {
      Book first = books.findAsync("async-" + i).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      assertThat(books.findAsync("async-" + i).get(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(first);
    }

    assertThat(books.calls()).isEqualTo(5);
    assertThat(books.asyncThreads()).hasSize(5).noneMatch(name -> name.startsWith("redisson-netty"));
  }

  @Test
  void retrieveWithALoader_completesOffRedissonsEventLoop() throws Exception {
    org.springframework.cache.Cache cache = cacheManager.getCache("books");
    for (int i = 0; i < 5; i++) {
      Book loaded = new Book("loaded-" + i, "Loaded");
      String thread = cache.retrieve("loaded-" + i, () -> java.util.concurrent.CompletableFuture.completedFuture(loaded))
          .thenApply(value -> Thread.currentThread().getName())
          .get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      // What a caller chains on the future (Spring: the rest of the reactive pipeline) never
      // runs on Redis's I/O thread, where it could block it.
      assertThat(thread).doesNotStartWith("redisson-netty");
    }
  }

  @Test
  void aWriteByAnotherClient_reachesTheNearCachedValue() {
    books.find("3");
    books.find("3");

    REDIS.server().command("SET", PREFIX + "3", "{\"id\":\"3\",\"title\":\"Changed elsewhere\"}");

    await().atMost(DEADLINE).untilAsserted(() -> assertThat(books.find("3").title()).isEqualTo("Changed elsewhere"));
  }

  @Test
  void longKeys_becomeStringKeysInRedis() {
    assertThat(books.square(12L)).isEqualTo(144L);
    assertThat(books.square(12L)).isEqualTo(144L);

    assertThat(books.calls()).isEqualTo(1);
    assertThat(REDIS.server().command("GET", "counts-" + PREFIX + "12")).asString().isEqualTo("144");
  }

  @Test
  void health_reportsTrackingCoherenceOverHttp() {
    await().atMost(DEADLINE).untilAsserted(() -> {
      HttpResponse<String> response = get("/actuator/health");
      assertThat(response.statusCode()).isEqualTo(200);
      JsonNode cachet = json.readTree(response.body()).path("components").path("cachet");
      assertThat(cachet.path("status").asText()).isEqualTo("UP");
      assertThat(cachet.path("details").path("caches").path("books").path("backend").asText()).isEqualTo("redis");
      assertThat(cachet.path("details").path("caches").path("books").path("coherence").asText()).isEqualTo("tracking");
    });
  }

  @Test
  void metrics_countHitsAndNearCacheOverHttp() throws Exception {
    books.find("4");
    books.find("4");

    HttpResponse<String> gets = get("/actuator/metrics/cache.gets?tag=cache:books&tag=result:hit");
    assertThat(gets.statusCode()).isEqualTo(200);
    assertThat(json.readTree(gets.body()).path("measurements").get(0).path("value").asDouble()).isGreaterThanOrEqualTo(1);

    HttpResponse<String> tracking = get("/actuator/metrics/cache.near.tracking?tag=cache:books");
    assertThat(tracking.statusCode()).isEqualTo(200);
    JsonNode tags = json.readTree(tracking.body()).path("availableTags");
    assertThat(tags.toString()).contains("cache.manager");
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(DEADLINE).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
