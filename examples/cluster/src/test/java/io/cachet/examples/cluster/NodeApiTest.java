package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheTimeoutException;
import io.cachet.replicated.ReplicaFullException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The node API over a {@code local} cache with a fake clock: answers, validation, readiness and failures. */
final class NodeApiTest {

  private static final String JSON = "application/json";

  private final LocalNodeCache local = new LocalNodeCache(3);
  private final AtomicReference<@Nullable NodeCache> current = new AtomicReference<>(local);
  private final NodeConfig config = NodeConfig.builder().nodeId("n1").maxKeyLength("8").build();
  private final NodeApi api = new NodeApi(config, current::get, () -> "# metrics\n", local.ticker);

  @AfterEach
  void close() {
    local.close();
  }

  private ApiResponse send(String method, String uri, @Nullable String contentType, String body) {
    return api.handle(new NodeApi.Request(method, uri, contentType, body.getBytes(UTF_8)))
        .toCompletableFuture().join();
  }

  private ApiResponse post(String uri, String body) {
    return send("POST", uri, JSON, body);
  }

  private ApiResponse get(String uri) {
    return send("GET", uri, null, "");
  }

  @Test
  void post_thenGet_returnsValueAndTimestamp() {
    ApiResponse created = post("/api/cache/k", "{\"a\": [1, 2.50, \"x\"]}");
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.body()).isEqualTo("{\"message\":\"Cache entry stored\",\"payload\":{\"key\":\"k\","
        + "\"value\":{\"a\":[1,2.50,\"x\"]},\"last_updated_at\":\"2020-01-01T00:00:00Z\"}}");
    assertThat(created.headers()).containsEntry("Location", "/api/cache/k");

    ApiResponse read = get("/api/cache/k");
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.body()).isEqualTo("{\"message\":\"Cache entry found\",\"payload\":{\"key\":\"k\","
        + "\"value\":{\"a\":[1,2.50,\"x\"]},\"last_updated_at\":\"2020-01-01T00:00:00Z\"}}");
  }

  /** RFC 9112 3.2.2: a server must accept the absolute form, which a client sends through a proxy. */
  @Test
  void absoluteFormTargets_areRoutedAsTheirPath() {
    ApiResponse created = post("http://node:8081/api/cache/k?ttl=60", "\"v\"");
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.headers()).containsEntry("Location", "/api/cache/k");

    assertThat(get("HTTP://node:8081/api/cache/k").status()).isEqualTo(200);
    assertThat(get("http://node:8081/health/live").status()).isEqualTo(200);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "\"text\"                           | \"text\"",
    "42                                 | 42",
    "-1.5e3                             | -1.5E+3",
    "1e400                              | 1E+400",
    "{}                                 | {}",
    "[0]                                | [0]",
    "{ \"nested\": {\"deep\": [null, true]} } | {\"nested\":{\"deep\":[null,true]}}",
  })
  void post_acceptsStringsNumbersObjectsAndArrays_inCompactForm(String value, String stored) {
    assertThat(post("/api/cache/v", value).status()).isEqualTo(201);
    assertThat(get("/api/cache/v").body()).contains("\"value\":" + stored + ",");
  }

  @Test
  void post_percentEncodedKey_isDecoded() {
    assertThat(post("/api/cache/a%2Fb%20c", "1").status()).isEqualTo(201);
    assertThat(get("/api/cache/a%2fb%20c").body()).contains("\"key\":\"a/b c\"");
  }

  @Test
  void post_withTtl_expiresAfterIt() {
    assertThat(post("/api/cache/t?ttl=2", "\"v\"").status()).isEqualTo(201);
    local.ticker.advance(Duration.ofMillis(1999));
    assertThat(get("/api/cache/t").status()).isEqualTo(200);
    local.ticker.advance(Duration.ofMillis(1));
    assertThat(get("/api/cache/t").status()).isEqualTo(404);
  }

  @Test
  void delete_existingKey_200_thenAbsent_404() {
    post("/api/cache/d", "1");
    ApiResponse deleted = send("DELETE", "/api/cache/d", null, "");
    assertThat(deleted.status()).isEqualTo(200);
    assertThat(deleted.body()).contains("\"key\":\"d\"");
    assertThat(get("/api/cache/d").status()).isEqualTo(404);
    assertThat(send("DELETE", "/api/cache/d", null, "").status()).isEqualTo(404);
  }

  @Test
  void get_missingKey_is404WithJsonError() {
    ApiResponse missing = get("/api/cache/nope");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.body()).startsWith("{\"error\":\"NotFound\"");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "{\"a\":                | not valid JSON",
    "{\"a\":1} trailing     | not valid JSON",
    "\"\"                   | empty string",
    "[]                     | empty array",
    "null                   | was null",
    "true                   | a boolean",
    "'   '                  | was empty",
    "1e2147483648           | number out of range",
    "1e-2147483649          | number out of range",
    "\"\\ud800\"           | lone surrogate",
    "\"a\\udc00b\"         | lone surrogate",
    "[\"ok\",{\"x\":\"\\ud83d\"}] | lone surrogate",
  })
  void post_badValue_is400_andChangesNothing(String body, String message) {
    post("/api/cache/k", "\"before\"");
    ApiResponse response = post("/api/cache/k", body);
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).startsWith("{\"error\":\"BadRequest\"").contains(message);
    assertThat(get("/api/cache/k").body()).contains("\"value\":\"before\"");
  }

  /**
   * Bodies that are not strict UTF-8 are refused before Jackson, which would read an overlong
   * form as the character it spells ({@code C0 AF} as "/", {@code E0 80 AF} as "/"), and the key
   * keeps its value.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "22C0AF22           | sequence C0 at byte offset 1",
    "2261E080AF6222     | sequence E0 at byte offset 2",
    "22F08080AF22       | at byte offset 1",
    "22EDA08022         | sequence ED A0 80 at byte offset 1",
    "22FF22             | sequence FF at byte offset 1",
    "7B2261223A22C322   | sequence C3 at byte offset 6",
    "22C3               | not valid UTF-8",
  })
  void post_bodyNotStrictUtf8_is400_andChangesNothing(String hex, String message) {
    post("/api/cache/k", "\"before\"");
    ApiResponse response = api.handle(new NodeApi.Request("POST", "/api/cache/k", JSON,
        java.util.HexFormat.of().parseHex(hex))).toCompletableFuture().join();
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).startsWith("{\"error\":\"BadRequest\",\"message\":\"the request body is not valid UTF-8")
        .contains(message);
    assertThat(get("/api/cache/k").body()).contains("\"value\":\"before\"");
    assertThat(get("/api/cache/%2F").status()).isEqualTo(404);
  }

  /**
   * Bytes that are also valid UTF-8 but spell JSON in UTF-16 or UTF-32 (NUL bytes around ASCII):
   * read as the UTF-8 they are, they are not JSON; Jackson's encoding detection would store "a".
   */
  @ParameterizedTest
  @ValueSource(strings = {"002200610022", "220061002200", "000000220000006100000022"})
  void post_utf16Or32Body_is400(String hex) {
    ApiResponse response = api.handle(new NodeApi.Request("POST", "/api/cache/k", JSON,
        java.util.HexFormat.of().parseHex(hex))).toCompletableFuture().join();
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).startsWith("{\"error\":\"BadRequest\",\"message\":\"the request body is not valid JSON");
    assertThat(get("/api/cache/k").status()).isEqualTo(404);
  }

  @Test
  void post_validMultibyteUtf8_isStoredAsSent() {
    assertThat(post("/api/cache/k", "\"\u00e9\u20ac\ud83d\ude00\"").status()).isEqualTo(201);
    assertThat(get("/api/cache/k").body()).contains("\"value\":\"\u00e9\u20ac\ud83d\ude00\"");
  }

  @Test
  void post_emptyBody_is400() {
    assertThat(post("/api/cache/k", "").status()).isEqualTo(400);
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "0", "abc", "1.5", "", "1e3", "999999999999", "315360001"})
  void post_badTtl_is400_andChangesNothing(String ttl) {
    ApiResponse response = post("/api/cache/k?ttl=" + ttl, "1");
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).contains("ttl must be a positive whole number of seconds");
    assertThat(get("/api/cache/k").status()).isEqualTo(404);
  }

  @Test
  void post_ttlTwice_is400() {
    assertThat(post("/api/cache/k?ttl=1&ttl=2", "1").body()).contains("more than once");
  }

  @ParameterizedTest
  @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "application/json; charset=iso-8859-1"})
  void post_notJsonContentType_is415(String contentType) {
    ApiResponse response = send("POST", "/api/cache/k", contentType, "1");
    assertThat(response.status()).isEqualTo(415);
    assertThat(response.body()).startsWith("{\"error\":\"UnsupportedMediaType\"");
    assertThat(get("/api/cache/k").status()).isEqualTo(404);
  }

  @Test
  void post_withoutContentType_is415() {
    assertThat(send("POST", "/api/cache/k", null, "1").status()).isEqualTo(415);
  }

  @Test
  void post_jsonWithUtf8Charset_isAccepted() {
    assertThat(send("POST", "/api/cache/k", "Application/JSON; charset=UTF-8", "1").status()).isEqualTo(201);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/api/cache/", "/api/cache", "/api/cache/?ttl=3"})
  void anyMethod_emptyKey_is400(String uri) {
    ApiResponse response = post(uri, "1");
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).contains("the key is empty");
  }

  @Test
  void post_keyOverTheLimit_is400_andAtTheLimitIsAccepted() {
    assertThat(post("/api/cache/123456789", "1").body()).contains("9 characters long; at most 8");
    assertThat(post("/api/cache/12345678", "1").status()).isEqualTo(201);
    assertThat(post("/api/cache/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", "1").status())
        .as("8 two-byte characters").isEqualTo(201);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/api/cache/a%00b", "/api/cache/a%0Ab", "/api/cache/%7F", "/api/cache/%C2%85"})
  void post_controlCharacterInKey_is400(String uri) {
    assertThat(post(uri, "1").body()).contains("control characters");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/api/cache/a%2", "/api/cache/a%zz", "/api/cache/%FF%FE", "/api/cache/%C0%AF",
      "/api/cache/a%E0%80%AFb", "/api/cache/%ED%A0%80", "/api/cache/\u00c0\u00af"})
  void get_badlyEncodedKey_is400(String uri) {
    assertThat(get(uri).status()).isEqualTo(400);
    assertThat(post(uri, "1").status()).isEqualTo(400);
    assertThat(get("/api/cache/%2F").status()).as("nothing stored under '/'").isEqualTo(404);
  }

  @Test
  void get_keyWithSlash_is404WithHint() {
    ApiResponse response = get("/api/cache/a/b");
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.body()).contains("encode '/' as %2F");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/api", "/api/other/k", "/health", "/cache/k"})
  void unknownPath_is404(String uri) {
    ApiResponse response = get(uri);
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.body()).startsWith("{\"error\":\"NotFound\"");
  }

  @Test
  void wrongMethod_is405WithAllow() {
    ApiResponse api = send("PUT", "/api/cache/k", JSON, "1");
    assertThat(api.status()).isEqualTo(405);
    assertThat(api.headers()).containsEntry("Allow", "GET, POST, DELETE");
    ApiResponse health = send("POST", "/health/ready", null, "");
    assertThat(health.status()).isEqualTo(405);
    assertThat(health.headers()).containsEntry("Allow", "GET");
  }

  @Test
  void notReady_apiIs503WithRetryAfter_andReadinessReportsProgress() {
    post("/api/cache/k", "1");
    local.ready = false;
    for (ApiResponse response : new ApiResponse[] {get("/api/cache/k"), post("/api/cache/k", "2"),
        send("DELETE", "/api/cache/k", null, "")}) {
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.headers()).containsEntry("Retry-After", "1");
      assertThat(response.body()).startsWith("{\"error\":\"NotReady\"");
    }
    ApiResponse ready = get("/health/ready");
    assertThat(ready.status()).isEqualTo(503);
    assertThat(ready.body()).contains("\"status\":\"REPLAYING\"", "\"replayed\":3", "\"target\":10",
        "\"progress\":0.3");
    assertThat(get("/health/live").status()).isEqualTo(200);

    local.ready = true;
    assertThat(get("/health/ready").status()).isEqualTo(200);
    assertThat(get("/api/cache/k").body()).contains("\"value\":1");
  }

  @Test
  void beforeTheCacheIsOpen_readyIsStarting() {
    current.set(null);
    assertThat(get("/health/ready").body()).contains("\"status\":\"STARTING\"");
    assertThat(get("/api/cache/k").status()).isEqualTo(503);
  }

  @Test
  void kafkaUnavailable_writeIs503() {
    local.writeFailure = new BackendUnavailableException("broker down", null);
    ApiResponse response = post("/api/cache/k", "1");
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.body()).startsWith("{\"error\":\"ServiceUnavailable\"").contains("broker down");
    local.writeFailure = new CacheTimeoutException("write not applied within 10s", null);
    assertThat(post("/api/cache/k", "1").status()).isEqualTo(503);
    assertThat(send("DELETE", "/api/cache/k", null, "").status()).isEqualTo(503);
  }

  @Test
  void replicaFull_is507() {
    local.writeFailure = new ReplicaFullException("full");
    ApiResponse response = post("/api/cache/k", "1");
    assertThat(response.status()).isEqualTo(507);
    assertThat(response.body()).startsWith("{\"error\":\"InsufficientStorage\"");
  }

  /** A value within the body limit that compact JSON grows past what one Kafka record takes. */
  @Test
  void post_entryOverKafkasRecordLimit_is413_andNothingIsStored() {
    String grows = "[" + "1e1,".repeat(247_000) + "1e1]"; // 988 kB sent, 1.2 MB in compact form
    ApiResponse response = post("/api/cache/k", grows);
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.body()).startsWith("{\"error\":\"PayloadTooLarge\"")
        .contains("the replication log takes at most " + NodeConfig.MAX_ENTRY_BYTES);
    assertThat(local.cache.get("k")).isNull();
  }

  /** A Kafka with a lower record limit than its default one refuses the record: 413, not 500. */
  @Test
  void recordRefusedAsTooLarge_is413() {
    local.writeFailure = new io.cachet.CacheException("the record is larger than Kafka accepts",
        new org.apache.kafka.common.errors.RecordTooLargeException("too large"));
    ApiResponse response = post("/api/cache/k", "\"" + "v".repeat(1000) + "\"");
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.body()).startsWith("{\"error\":\"PayloadTooLarge\"");
  }

  @Test
  void unexpectedFailure_is500WithoutStackTrace() {
    local.readFailure = new IllegalArgumentException("boom");
    ApiResponse response = get("/api/cache/k");
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.body()).isEqualTo("{\"error\":\"InternalError\",\"message\":\"internal error: "
        + "IllegalArgumentException\"}");
  }

  @Test
  void metrics_isPrometheusText() {
    ApiResponse metrics = get("/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.contentType()).startsWith("text/plain; version=0.0.4");
  }
}
