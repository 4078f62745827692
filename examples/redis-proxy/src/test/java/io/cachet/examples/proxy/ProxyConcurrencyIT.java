package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.examples.support.RawHttp;
import io.cachet.testkit.redis.RedisServerExtension;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MAX_CLIENTS and PARALLELISM, on the built jar. */
@Tag("redis")
final class ProxyConcurrencyIT {

  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  @Nested
  final class MaxClients {

    /**
     * MAX_CLIENTS=4: RESP clients may hold 2 (half of a limit under 16), so silent RESP clients
     * cannot take {@code /health} away; past the limit every connection is refused.
     */
    @Test
    void theMaxClientsPlusFirstConnection_isRefused_whileExistingClientsAreServed() throws Exception {
      int max = 4;
      REDIS.server().command("SET", "mc:key", "v");
      try (ProxyProcess proxy = ProxyProcess.start(Map.of(
          "REDIS_ADDRESS", REDIS.server().address(), "MAX_CLIENTS", Integer.toString(max)))) {
        // Only the metrics request itself is connected: no client of an earlier step holds a slot.
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.metric("proxy_clients_connected") == 1.0);
        List<RespClient> clients = new ArrayList<>();
        List<java.net.Socket> silentHttp = new ArrayList<>();
        try {
          for (int i = 0; i < max - 2; i++) {
            RespClient client = proxy.resp();
            clients.add(client);
            assertThat(client.command("PING")).isEqualTo("+PONG");
          }
          try (RespClient refused = proxy.resp()) {
            assertThat(refused.readUntilClosed(Duration.ofSeconds(10)))
                .isEqualTo("-ERR max number of clients reached\r\n");
          }
          assertThat(RawHttp.get(proxy.httpPort(), "/health").status()).as("HTTP keeps its share").isEqualTo(200);
          for (int i = 0; i < 2; i++) { // HTTP connections that send nothing take the last two
            silentHttp.add(new java.net.Socket("127.0.0.1", proxy.httpPort()));
          }
          await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            RawHttp.Response http = RawHttp.get(proxy.httpPort(), "/proxy?key=mc:key");
            assertThat(http.status()).isEqualTo(503);
            assertThat(http.body())
                .isEqualTo("{\"error\":\"TooManyClients\",\"message\":\"max number of clients reached\"}");
          });
          for (RespClient client : clients) {
            assertThat(client.string("GET", "mc:key")).as("existing clients keep being served").isEqualTo("v");
          }
          clients.remove(0).close();
          // Once a slot is free (the close is asynchronous on the proxy's side) a new client gets in.
          await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (RespClient next = proxy.resp()) {
              assertThat(next.command("PING")).isEqualTo("+PONG");
            }
          });
          clients.remove(0).close();
          await().atMost(Duration.ofSeconds(10)).until(
              () -> proxy.metric("proxy_clients_rejected_total") >= 2);
        } finally {
          clients.forEach(RespClient::close);
          for (java.net.Socket socket : silentHttp) {
            socket.close();
          }
        }
      }
    }
  }

  @Nested
  final class Sequential {

    /**
     * PARALLELISM=1: one request at a time across every client. 40 clients (32 RESP, 8 HTTP) send
     * 50 requests each at once, over 200 keys with a 20-key cache, so most reads go to Redis and
     * wait their turn in the proxy's queue; every answer must be the right one.
     */
    @Test
    void sequentialMode_stillAnswersManyConcurrentClientsCorrectly() throws Exception {
      int keys = 200;
      for (int i = 0; i < keys; i++) {
        REDIS.server().command("SET", "seq:" + i, "value-" + i);
      }
      try (ProxyProcess proxy = ProxyProcess.start(Map.of(
          "REDIS_ADDRESS", REDIS.server().address(), "PARALLELISM", "1", "CACHE_CAPACITY", "20"))) {
        ExecutorService pool = Executors.newFixedThreadPool(40);
        try {
          List<Future<Integer>> results = new ArrayList<>();
          for (int c = 0; c < 40; c++) {
            int client = c;
            results.add(pool.submit(() -> client < 32 ? respClient(proxy, client, keys) : httpClient(proxy, client, keys)));
          }
          int answered = 0;
          for (Future<Integer> result : results) {
            answered += result.get(120, TimeUnit.SECONDS);
          }
          assertThat(answered).isEqualTo(40 * 50);
        } finally {
          pool.shutdownNow();
        }
        assertThat(proxy.metric("proxy_requests_active")).isZero();
        assertThat(proxy.metric("proxy_requests_queued")).isZero();
      }
    }

    private int respClient(ProxyProcess proxy, int client, int keys) {
      try (RespClient resp = proxy.resp()) {
        for (int i = 0; i < 50; i++) {
          int k = (client * 31 + i * 7) % keys;
          if (i % 10 == 9) {
            // A pipelined pair: answered in order even though both queue behind other clients.
            int k2 = (k + 1) % keys;
            java.io.ByteArrayOutputStream both = new java.io.ByteArrayOutputStream();
            both.writeBytes(RespClient.frame("GET", "seq:" + k));
            both.writeBytes(RespClient.frame("GET", "seq:" + k2));
            resp.send(both.toByteArray());
            assertThat(RespClient.asString(resp.read())).isEqualTo("value-" + k);
            assertThat(RespClient.asString(resp.read())).isEqualTo("value-" + k2);
          } else {
            assertThat(resp.string("GET", "seq:" + k)).isEqualTo("value-" + k);
          }
        }
      }
      return 50;
    }

    private int httpClient(ProxyProcess proxy, int client, int keys) {
      for (int i = 0; i < 50; i++) {
        int k = (client * 17 + i * 11) % keys;
        HttpResponse<byte[]> response = proxy.get("/proxy?key=seq:" + k);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new String(response.body(), UTF_8)).isEqualTo("value-" + k);
      }
      return 50;
    }
  }
}
