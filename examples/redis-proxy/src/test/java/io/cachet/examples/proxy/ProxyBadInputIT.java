package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.examples.support.RawHttp;
import io.cachet.testkit.redis.RedisServerExtension;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input against the built jar, each case a test: every one gets a clear error or a closed
 * connection, never a crash, an out-of-memory or a hang, and other clients keep being served
 * (checked after every test). The proxy runs with a 64 MB heap and 64 MB of direct memory, so a
 * decoder that allocated by a claimed length would die in {@link #claimedLengths_allocateNothing}.
 */
@Tag("redis")
final class ProxyBadInputIT {

  private static final Duration CLOSED_WITHIN = Duration.ofSeconds(10);
  private static final Duration HTTP_IDLE_TIMEOUT = Duration.ofSeconds(2);

  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private static ProxyProcess proxy;

  @BeforeAll
  static void startProxy() {
    REDIS.server().command("SET", "good", "value");
    proxy = ProxyProcess.start(Map.of(
            "REDIS_ADDRESS", REDIS.server().address(),
            "MAX_CLIENTS", "2000",
            "REQUEST_TIMEOUT", "1",
            "HTTP_IDLE_TIMEOUT", String.valueOf(HTTP_IDLE_TIMEOUT.toSeconds())),
        "-Xmx64m", "-XX:MaxDirectMemorySize=64m");
  }

  @AfterAll
  static void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  /** After every case: the process is alive and other clients are served on both protocols. */
  @AfterEach
  void othersAreStillServed() {
    assertThat(proxy.isAlive()).as("the proxy process is alive").isTrue();
    try (RespClient client = proxy.resp()) {
      assertThat(client.command("PING")).isEqualTo("+PONG");
      assertThat(client.string("GET", "good")).isEqualTo("value");
    }
    RawHttp.Response response = RawHttp.get(proxy.httpPort(), "/proxy?key=good");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("value");
    assertThat(proxy.log()).doesNotContain("OutOfMemoryError").doesNotContain("Exception in thread");
  }

  // ------------------------------------------------------------------ RESP framing

  @ParameterizedTest
  @ValueSource(strings = {"+PING\r\n", "$4\r\nPING\r\n", ":1\r\n", "-ERR\r\n"})
  void resp_wrongTypeByte(String input) {
    assertProtocolError(input, "expected '*', got '" + input.charAt(0) + "'");
  }

  @Test
  void resp_wrongTypeByteInsideAnArray() {
    assertProtocolError("*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"*abc\r\n", "*1x\r\n", "*\r\n"})
  void resp_nonNumericArrayLength(String input) {
    assertProtocolError(input, "invalid multibulk length");
  }

  @ParameterizedTest
  @ValueSource(strings = {"*2\r\n$3\r\nGET\r\n$abc\r\n", "*2\r\n$3\r\nGET\r\n$1e3\r\n"})
  void resp_nonNumericBulkLength(String input) {
    assertProtocolError(input, "invalid bulk length");
  }

  @Test
  void resp_negativeArrayLength() {
    assertProtocolError("*-3\r\n", "invalid multibulk length");
  }

  @Test
  void resp_negativeBulkLength() {
    assertProtocolError("*2\r\n$3\r\nGET\r\n$-1\r\n", "invalid bulk length");
  }

  @Test
  void resp_bulkLengthOf2To31() {
    assertProtocolError("*2\r\n$3\r\nGET\r\n$2147483648\r\n",
        "invalid bulk length (the request would exceed max-request-bytes 524288)");
  }

  @Test
  void resp_arrayLengthOf2To31() {
    assertProtocolError("*2147483648\r\n", "invalid multibulk length");
  }

  @Test
  void resp_tenThousandDeepNestedArray() {
    assertProtocolError("*1\r\n".repeat(10_000), "expected '$', got '*'");
  }

  @Test
  void resp_binaryGarbage() {
    byte[] garbage = new byte[64 * 1024];
    new Random(1).nextBytes(garbage);
    garbage[0] = 0x07;
    try (RespClient client = proxy.resp()) {
      client.send(garbage);
      assertThat(client.readUntilClosed(CLOSED_WITHIN)).startsWith("-ERR Protocol error: invalid inline request");
    }
  }

  @Test
  void resp_frameCutInTheMiddle_thenTheClientGoes() {
    byte[] frame = RespClient.frame("GET", "good");
    try (RespClient client = proxy.resp()) {
      client.send(java.util.Arrays.copyOf(frame, frame.length / 2));
    } // closed mid-frame
  }

  @Test
  void resp_frameCutInTheMiddle_thenCompleted_isAnswered() {
    byte[] frame = RespClient.frame("GET", "good");
    try (RespClient client = proxy.resp()) {
      client.send(java.util.Arrays.copyOf(frame, frame.length / 2));
      client.send(java.util.Arrays.copyOfRange(frame, frame.length / 2, frame.length));
      assertThat(RespClient.asString(client.read())).isEqualTo("value");
    }
  }

  @Test
  void resp_idleClientHoldingHalfAFrame_othersAreServed_thenItIsDisconnected() {
    try (RespClient idle = proxy.resp()) {
      idle.send("*2\r\n$3\r\nGET\r\n$4\r\ngo");
      for (int i = 0; i < 20; i++) {
        try (RespClient other = proxy.resp()) {
          assertThat(other.string("GET", "good")).isEqualTo("value");
        }
      }
      assertThat(idle.readUntilClosed(CLOSED_WITHIN))
          .isEqualTo("-ERR Protocol error: request not completed within 1 s\r\n");
    }
  }

  @Test
  void keyHoldingAList_isWrongTypeOnBothProtocols_andNotLoggedAsAFailure() {
    REDIS.server().command("LPUSH", "a-list", "x");
    try (RespClient client = proxy.resp()) {
      for (int i = 0; i < 200; i++) {
        assertThat(client.command("GET", "a-list"))
            .isEqualTo("-WRONGTYPE Operation against a key holding the wrong kind of value");
      }
    }
    RawHttp.Response response = RawHttp.get(proxy.httpPort(), "/proxy?key=a-list");
    assertThat(response.status()).isEqualTo(409);
    assertThat(response.body()).contains("\"error\":\"WrongType\"");
    assertThat(proxy.log()).doesNotContain("Cache read failed");
  }

  @Test
  void resp_manyEmptyArguments_countTowardsTheRequestBound() {
    // 50,000 empty arguments: 300 KB on the wire, under the bound, but over 1 MB of heap decoded.
    StringBuilder frame = new StringBuilder("*50001\r\n$3\r\nGET\r\n");
    frame.append("$0\r\n\r\n".repeat(50_000));
    try (RespClient client = proxy.resp()) {
      client.send(frame.toString());
      assertThat(client.readUntilClosed(CLOSED_WITHIN))
          .startsWith("-ERR Protocol error: invalid bulk length (the request would exceed max-request-bytes 524288)");
    }
  }

  @Test
  void resp_clientThatStopsReading_isDisconnectedAtTheReplyStallTimeout_freeingItsSlot() {
    REDIS.server().command("SET", "big", "v".repeat(20_000));
    try (ProxyProcess small = ProxyProcess.start(Map.of(
            "REDIS_ADDRESS", REDIS.server().address(),
            "MAX_CLIENTS", "1",
            "REPLY_STALL_TIMEOUT", "2"),
        "-Xmx64m");
        RespClient stalled = small.resp()) {
      // 2,000 GETs of a 20 KB value, never read: far more than the socket buffers and the queued bound.
      ByteArrayOutputStream requests = new ByteArrayOutputStream();
      for (int i = 0; i < 2_000; i++) {
        requests.writeBytes(RespClient.frame("GET", "big"));
      }
      stalled.send(requests.toByteArray());
      // The only slot is taken until the proxy gives up on the client that does not read.
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
        try (RespClient next = small.resp()) {
          assertThat(next.command("PING")).isEqualTo("+PONG");
        }
      });
    }
  }

  @Test
  void resp_oneMegabyteKey_isRefusedAndClosed() {
    byte[] key = new byte[1_000_000];
    java.util.Arrays.fill(key, (byte) 'k');
    try (RespClient client = proxy.resp()) {
      client.send(RespClient.frame("GET".getBytes(UTF_8), key));
      assertThat(client.readUntilClosed(CLOSED_WITHIN))
          .isEqualTo("-ERR Protocol error: invalid bulk length (the request would exceed max-request-bytes 524288)\r\n");
    }
  }

  @Test
  void resp_largeButAllowedKey_isServed() {
    byte[] key = new byte[400_000];
    java.util.Arrays.fill(key, (byte) 'k');
    try (RespClient client = proxy.resp()) {
      assertThat(client.command("GET".getBytes(UTF_8), key)).isNull();
    }
  }

  /**
   * 300 connections each claim a 500 KB argument and 300 more claim a million-element array,
   * 150 MB of claims against a 64 MB heap, and send nothing more. Nothing may be allocated by a
   * claim: the proxy keeps serving, and the request timeout disconnects them.
   */
  @Test
  void claimedLengths_allocateNothing() {
    List<RespClient> claimants = new ArrayList<>();
    try {
      for (int i = 0; i < 300; i++) {
        RespClient bulk = proxy.resp();
        claimants.add(bulk);
        bulk.send("*2\r\n$3\r\nGET\r\n$500000\r\nabc");
        RespClient array = proxy.resp();
        claimants.add(array);
        array.send("*1048576\r\n$3\r\nGET\r\n");
      }
      try (RespClient other = proxy.resp()) {
        assertThat(other.string("GET", "good")).isEqualTo("value");
      }
      for (RespClient claimant : claimants) {
        assertThat(claimant.readUntilClosed(CLOSED_WITHIN)).startsWith("-ERR Protocol error: request not completed");
      }
    } finally {
      claimants.forEach(RespClient::close);
    }
    await().atMost(CLOSED_WITHIN).until(() -> proxy.metric("proxy_clients_connected") <= 1.0);
  }

  // ------------------------------------------------------------------ HTTP

  @Test
  void http_oneMegabyteKey_is414() {
    RawHttp.Response response = RawHttp.get(proxy.httpPort(), "/proxy?key=" + "k".repeat(1_000_000));
    assertThat(response.status()).isEqualTo(414);
    assertThat(response.body()).startsWith("{\"error\":\"URITooLong\"");
  }

  @Test
  void http_veryLongUrl_is414_butOneJustUnderTheLimitWorks() {
    assertThat(RawHttp.get(proxy.httpPort(), "/proxy?key=" + "u".repeat(100_000)).status()).isEqualTo(414);
    RawHttp.Response ok = RawHttp.get(proxy.httpPort(), "/proxy?key=" + "u".repeat(8_000));
    assertThat(ok.status()).isEqualTo(404);
  }

  @Test
  void http_rawNonAsciiByteInTheRequestLine_isTheKeysByte() {
    // Not bad input: keys are bytes. A raw byte in the target stands for itself, as %XX does.
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    raw.writeBytes("GET /proxy?key=k".getBytes(ISO_8859_1));
    raw.write(0xff);
    raw.writeBytes(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(ISO_8859_1));
    RawHttp.Response response = RawHttp.send(proxy.httpPort(), raw.toByteArray());
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.body()).isEqualTo("{\"error\":\"NotFound\",\"message\":\"key 'k\\\\xff' does not exist in Redis\"}");
  }

  @ParameterizedTest
  @ValueSource(strings = {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET /proxy?key=a HTTP/x\r\n\r\n", "\u0001\u0002\u0003 / HTTP/1.1\r\n\r\n"})
  void http_malformedRequest_is400AndClosed(String request) {
    RawHttp.Response response = RawHttp.send(proxy.httpPort(), request.getBytes(ISO_8859_1));
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).startsWith("{\"error\":\"BadRequest\"");
  }

  @Test
  void http_unsupportedVersion_is505AndClosed() {
    RawHttp.Response response = RawHttp.send(proxy.httpPort(), "GET /proxy?key=a HTTP/9.9\r\n\r\n".getBytes(ISO_8859_1));
    assertThat(response.status()).isEqualTo(505);
    assertThat(response.body()).startsWith("{\"error\":\"HTTPVersionNotSupported\"");
  }

  @Test
  void http_hugeHeaders_are431() {
    String request = "GET /proxy?key=good HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(100_000) + "\r\n\r\n";
    RawHttp.Response response = RawHttp.send(proxy.httpPort(), request.getBytes(ISO_8859_1));
    assertThat(response.status()).isEqualTo(431);
  }

  @Test
  void http_hugeBody_is413() {
    String request = "GET /proxy?key=good HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + "b".repeat(1_000_000);
    RawHttp.Response response = RawHttp.send(proxy.httpPort(), request.getBytes(ISO_8859_1));
    assertThat(response.status()).isEqualTo(413);
  }

  @Test
  void http_slowClient_is408AfterTheRequestTimeout() {
    try (RespClient slow = RespClient.open(proxy.httpPort())) { // a plain socket, used for HTTP
      slow.send("GET /proxy?key=good HTTP/1.1\r\nHost: x\r\n");
      String reply = slow.readUntilClosed(CLOSED_WITHIN);
      assertThat(reply).startsWith("HTTP/1.1 408 Request Timeout").contains("\"error\":\"RequestTimeout\"");
    }
  }

  @Test
  void http_keptAliveConnectionLeftIdle_isClosedAtTheHttpIdleTimeout_whileAnIdleRespClientStays() {
    try (RespClient http = RespClient.open(proxy.httpPort()); RespClient resp = proxy.resp()) { // a plain socket, used for HTTP
      assertThat(resp.command("PING")).isEqualTo("+PONG");
      long start = System.nanoTime();
      http.send("GET /proxy?key=good HTTP/1.1\r\nHost: x\r\n\r\n");
      String response = http.readUntilClosed(CLOSED_WITHIN);
      Duration open = Duration.ofNanos(System.nanoTime() - start);
      assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nvalue");
      assertThat(open).as("kept alive until the idle bound").isGreaterThan(HTTP_IDLE_TIMEOUT.minusMillis(250));
      assertThat(resp.command("PING")).as("silent as long, but RESP has no idle bound by default").isEqualTo("+PONG");
    }
  }

  @Test
  void http_headOfAnUnknownPath_has404HeadersButNoBody_andTheNextResponseFollows() {
    try (RespClient client = RespClient.open(proxy.httpPort())) { // a plain socket, used for HTTP
      client.send("HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      String responses = client.readUntilClosed(CLOSED_WITHIN);
      assertThat(responses).startsWith("HTTP/1.1 404 Not Found\r\n");
      String afterHead = responses.substring(responses.indexOf("\r\n\r\n") + 4);
      assertThat(afterHead).as("no body after the HEAD response's headers").startsWith("HTTP/1.1 200 OK\r\n");
      assertThat(afterHead).endsWith("{\"status\":\"UP\"}");
    }
  }

  // ------------------------------------------------------------------ helpers

  private static void assertProtocolError(String input, String message) {
    try (RespClient client = proxy.resp()) {
      client.send(input);
      assertThat(client.readUntilClosed(CLOSED_WITHIN)).isEqualTo("-ERR Protocol error: " + message + "\r\n");
    }
  }
}
