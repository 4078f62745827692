package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.examples.support.RawHttp;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bad input against a one-node cluster from the launcher jar, through the balancer and on the
 * node directly: each case gets its 4xx status and a JSON error body, and the key it aimed at
 * keeps the value it had before.
 */
@Tag("kafka")
final class ClusterBadInputIT {

  private static final String ORIGINAL = "{\"original\":true}";
  private static ClusterProcess cluster;

  /** Where a request is sent. */
  enum Target {
    BALANCER,
    NODE;

    String url() {
      return this == BALANCER ? cluster.balancer() : cluster.node(1);
    }

    int port() {
      return this == BALANCER ? cluster.port() : cluster.nodePort(1);
    }
  }

  @BeforeAll
  static void startCluster() {
    cluster = ClusterProcess.start(1, "--max-body", "1024", "--max-key-length", "32");
    assertThat(cluster.post(cluster.balancer(), "guard", ORIGINAL).status()).isEqualTo(201);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Sends the request, checks status and JSON error, and that "guard" is unchanged. */
  private static ClusterProcess.Response assertRejected(Target target, int status, String error,
      Function<String, ClusterProcess.Response> request) {
    String before = cluster.get(cluster.node(1), "guard").body();
    assertThat(before).contains("\"original\":true");
    ClusterProcess.Response response = request.apply(target.url());
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.header("Content-Type")).startsWith("application/json");
    assertThat(response.json().get("error").asText()).isEqualTo(error);
    assertThat(response.json().get("message").asText()).isNotBlank();
    assertThat(response.body()).doesNotContain("Exception", "\tat ");
    assertThat(cluster.get(cluster.node(1), "guard").body()).isEqualTo(before);
    return response;
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void invalidJson_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard", "{\"broken\": "));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void bodyOverTheLimit_is413(Target target) {
    String body = "\"" + "x".repeat(2000) + "\"";
    byte[] bytes = body.getBytes(UTF_8);
    String before = cluster.get(cluster.node(1), "guard").body();
    RawHttp.Response response = RawHttp.send(target.port(), ("POST /api/cache/guard HTTP/1.1\r\nHost: x\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n" + body).getBytes(UTF_8));
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.head()).contains("content-type: application/json");
    assertThat(response.body()).startsWith("{\"error\":\"PayloadTooLarge\"").contains("1024 bytes");
    assertThat(cluster.get(cluster.node(1), "guard").body()).isEqualTo(before);
  }

  /**
   * Overlong UTF-8 forms in a body: {@code C0 AF} and {@code E0 80 AF} both spell "/" to a lenient
   * decoder; they are refused with 400 and nothing changes (the key keeps its value).
   */
  @ParameterizedTest
  @EnumSource(Target.class)
  void bodyWithOverlongUtf8_is400_andChangesNothing(Target target) {
    byte[][] bodies = {
      {'"', (byte) 0xC0, (byte) 0xAF, '"'},
      {'"', 'a', (byte) 0xE0, (byte) 0x80, (byte) 0xAF, 'b', '"'},
      {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', ':', '1', '}'},
    };
    for (byte[] body : bodies) {
      String before = cluster.get(cluster.node(1), "guard").body();
      RawHttp.Response response = RawHttp.send(target.port(), request("POST", "/api/cache/guard", body));
      assertThat(response.status()).as(response.body()).isEqualTo(400);
      assertThat(response.head()).contains("content-type: application/json");
      assertThat(response.body()).startsWith("{\"error\":\"BadRequest\",\"message\":\"the request body is not valid UTF-8");
      assertThat(cluster.get(cluster.node(1), "guard").body()).isEqualTo(before);
    }
  }

  /** Keys with overlong or otherwise invalid UTF-8, percent-encoded or raw: 400, nothing stored. */
  @ParameterizedTest
  @EnumSource(Target.class)
  void keyWithOverlongUtf8_is400_andStoresNothing(Target target) {
    byte[] rawOverlong = {'/', 'a', 'p', 'i', '/', 'c', 'a', 'c', 'h', 'e', '/', (byte) 0xC0, (byte) 0xAF};
    for (byte[] path : new byte[][] {
        "/api/cache/%C0%AF".getBytes(UTF_8), "/api/cache/a%E0%80%AFb".getBytes(UTF_8), rawOverlong}) {
      RawHttp.Response response = RawHttp.send(target.port(), request("POST", path, "1".getBytes(UTF_8)));
      assertThat(response.status()).as(response.body()).isEqualTo(400);
      assertThat(response.body()).startsWith("{\"error\":\"BadRequest\"");
      assertThat(RawHttp.send(target.port(), request("GET", path, new byte[0])).status()).isEqualTo(400);
    }
    assertThat(cluster.get(cluster.node(1), "%2F").status()).as("nothing stored under '/'").isEqualTo(404);
  }

  private static byte[] request(String method, String path, byte[] body) {
    return request(method, path.getBytes(UTF_8), body);
  }

  private static byte[] request(String method, byte[] path, byte[] body) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes((method + " ").getBytes(UTF_8));
    out.writeBytes(path);
    out.writeBytes((" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(UTF_8));
    out.writeBytes(body);
    return out.toByteArray();
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void emptyKey_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "", "1"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void overLongKey_is400(Target target) {
    String key = "guard" + "g".repeat(28);
    ClusterProcess.Response response = assertRejected(target, 400, "BadRequest", url -> cluster.post(url, key, "1"));
    assertThat(response.json().get("message").asText()).contains("at most 32");
    assertThat(cluster.get(cluster.node(1), key).status()).as("nor can such a key be read").isEqualTo(400);
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void controlCharacterInKey_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "gu%0Aard", "1"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void unsupportedMediaType_is415(Target target) {
    assertRejected(target, 415, "UnsupportedMediaType",
        url -> cluster.send("POST", url + "/api/cache/guard", "text/plain", "\"plain\""));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void unknownPath_is404(Target target) {
    assertRejected(target, 404, "NotFound", url -> cluster.send("GET", url + "/no/such/path", null, null));
    assertRejected(target, 404, "NotFound", url -> cluster.send("POST", url + "/api/caches/guard", "application/json", "1"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void wrongMethod_is405WithAllow(Target target) {
    ClusterProcess.Response response = assertRejected(target, 405, "MethodNotAllowed",
        url -> cluster.send("PUT", url + "/api/cache/guard", "application/json", "1"));
    assertThat(response.header("Allow")).isEqualTo("GET, POST, DELETE");
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void ttlNegative_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard?ttl=-5", "1"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void ttlZero_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard?ttl=0", "1"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void ttlNotANumber_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard?ttl=soon", "1"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void emptyString_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard", "\"\""));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void emptyArray_is400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard", "[]"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void nullAndBoolean_are400(Target target) {
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard", "null"));
    assertRejected(target, 400, "BadRequest", url -> cluster.post(url, "guard", "false"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void malformedHttp_is400AndTheServerKeepsServing(Target target) {
    RawHttp.Response response = RawHttp.send(target.port(), "GET /api/cache/guard HTTP/x.y\r\n\r\n".getBytes(UTF_8));
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).startsWith("{\"error\":\"BadRequest\"");
    assertThat(cluster.get(target.url(), "guard").status()).isEqualTo(200);
  }
}
