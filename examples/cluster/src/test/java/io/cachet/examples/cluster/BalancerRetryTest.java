package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cachet.examples.support.RawHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The balancer's retry rule against two stub nodes (JDK HTTP servers on 127.0.0.1): one applies a
 * DELETE and never answers in time, the other answers 404 for the same key, as a peer would
 * once the delete replicated. A timed-out DELETE is answered 504 "may or may not have been
 * applied", never retried into a 404; a GET is still retried on the other node.
 */
final class BalancerRetryTest {

  private final AtomicInteger slowDeletes = new AtomicInteger();
  private final AtomicInteger fastDeletes = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);
  private HttpServer slow;
  private HttpServer fast;
  private Balancer balancer;

  private static HttpServer stub(String id, Handler handler) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", exchange -> {
      try (exchange) {
        if (exchange.getRequestURI().getPath().equals("/health/ready")) {
          respond(exchange, 200, "{\"status\":\"READY\"}");
        } else {
          handler.handle(exchange);
        }
      }
    });
    server.start();
    return server;
  }

  private interface Handler {
    void handle(HttpExchange exchange) throws IOException;
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private void start() throws IOException {
    slow = stub("slow", exchange -> {
      if (exchange.getRequestMethod().equals("DELETE")) {
        slowDeletes.incrementAndGet(); // applied, but the answer comes too late
      }
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      respond(exchange, 200, "{\"message\":\"Cache entry deleted\"}");
    });
    fast = stub("fast", exchange -> {
      if (exchange.getRequestMethod().equals("DELETE")) {
        fastDeletes.incrementAndGet();
        respond(exchange, 404, "{\"error\":\"NotFound\",\"message\":\"key does not exist\"}");
      } else {
        respond(exchange, 200, "{\"message\":\"Cache entry found\"}");
      }
    });
    List<Backend> backends = List.of(
        new Backend(1, "node-slow", "127.0.0.1", slow.getAddress().getPort()),
        new Backend(2, "node-fast", "127.0.0.1", fast.getAddress().getPort()));
    balancer = Balancer.start("127.0.0.1", 0, backends, new NoClusterControl(), 1024, Duration.ofMillis(500), 1,
        ServerLimits.defaults());
    await().atMost(Duration.ofSeconds(10)).until(() -> backends.stream().allMatch(Backend::ready));
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (balancer != null) {
      balancer.close();
    }
    if (slow != null) {
      slow.stop(0);
    }
    if (fast != null) {
      fast.stop(0);
    }
  }

  @Test
  void deleteThatTimedOut_isNotRetried_andSaysItMayHaveBeenApplied() throws IOException {
    start();
    int slowAnswered = 0;
    for (int i = 0; i < 2; i++) { // round robin: one of the two goes to the slow node first
      RawHttp.Response response = RawHttp.send(balancer.port(),
          "DELETE /api/cache/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      if (response.head().contains("x-cachet-node: node-slow")) {
        slowAnswered++;
        assertThat(response.status()).isEqualTo(504);
        assertThat(response.body()).contains("\"error\":\"GatewayTimeout\"")
            .contains("the DELETE may or may not have been applied");
      } else {
        assertThat(response.status()).isEqualTo(404);
      }
    }
    assertThat(slowAnswered).isEqualTo(1);
    assertThat(slowDeletes.get()).isEqualTo(1);
    assertThat(fastDeletes.get()).as("the timed-out DELETE was not sent again").isEqualTo(1);
  }

  @Test
  void getThatTimedOut_isRetriedOnTheNextNode() throws IOException {
    start();
    for (int i = 0; i < 2; i++) {
      RawHttp.Response response = RawHttp.get(balancer.port(), "/api/cache/k");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.head()).contains("x-cachet-node: node-fast");
    }
  }
}
