package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code --max-pending-requests} on a real node server (local cache, loopback socket): while a
 * write is in flight and never completes, a client streaming large POSTs gets only a bounded
 * number of bytes taken off it, the rest waits in its own socket.
 */
final class PendingRequestBoundTest {

  private static final int BODY = 512 * 1024;
  private static final int REQUESTS = 100;

  private final LocalNodeCache local = new LocalNodeCache(1_000);
  private NodeServer server;
  private Socket client;
  private Thread writer;

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (writer != null) {
      writer.join(10_000);
    }
    if (local.writeGate != null) {
      local.writeGate.complete(null); // else closing waits for the write's answer
    }
    if (server != null) {
      server.close();
    }
    local.close();
  }

  @Test
  void busyConnection_streamingLargePosts_takesBoundedBytes() throws Exception {
    local.writeGate = new CompletableFuture<>(); // the first write never completes
    NodeConfig config = NodeConfig.builder().nodeId("n1").port("0").threads("1").maxPendingRequests("2").build();
    server = NodeServer.start(config, c -> local, InstantSource.system());
    await().atMost(Duration.ofSeconds(10)).until(() -> server.cache() != null);

    client = new Socket();
    client.setSendBufferSize(64 * 1024);
    client.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
    AtomicLong written = new AtomicLong();
    writer = new Thread(() -> stream(client, written), "posts");
    writer.setDaemon(true);
    writer.start();

    // Wait until the writer blocks (the node stopped taking bytes) or has sent everything.
    long[] last = {-1};
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).until(() -> {
      long now = written.get();
      boolean still = now == last[0];
      last[0] = now;
      return still;
    });
    long total = (long) REQUESTS * BODY;
    // The node holds the request in flight, the queued ones and one partial request (about 2 MiB);
    // the kernel's socket buffers hold a few MiB more. Without the bound it took all 50 MiB.
    assertThat(written.get()).as("bytes the node took of %d", total).isLessThan(12L * 1024 * 1024);
  }

  /**
   * Thousands of small pipelined requests sent at once behind a write in flight: the node holds
   * most of them undecoded, and once the write completes answers every one, in order, on the same
   * connection (the requests held back are decoded without waiting for more input).
   */
  @Test
  void smallPipelinedRequestsBehindAWrite_areAllAnsweredInOrder() throws Exception {
    int gets = 3_000;
    sendAWriteThenReadsBehindIt(gets);
    // The node has read what it takes and waits for the write.
    await().atMost(Duration.ofSeconds(10)).until(() -> local.writeGate.getNumberOfDependents() > 0);
    local.writeGate.complete(null);

    java.io.InputStream in = client.getInputStream();
    StringBuilder out = new StringBuilder();
    byte[] buffer = new byte[64 * 1024];
    int answers = 0;
    while (answers < gets + 1) {
      int n = in.read(buffer);
      assertThat(n).as("answers received before the connection ended: %d", answers).isPositive();
      out.append(new String(buffer, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
      answers = count(out, "HTTP/1.1 ");
    }
    assertThat(out).startsWith("HTTP/1.1 201 Created");
    assertThat(count(out, "HTTP/1.1 200 OK")).isEqualTo(gets);
    assertThat(out.toString()).contains("\"value\":7");
  }

  /**
   * A client that sends a write and pipelined reads, then shuts down its sending side (as
   * {@code nc -N} does), still gets every answer, in order; the node closes the connection after
   * the last. Without half-closure the node closed at the client's end-of-stream: the write was
   * applied and its answer, like the reads', never sent.
   */
  @Test
  void clientThatShutsDownItsSideAfterItsRequests_getsEveryAnswer_thenTheNodeCloses() throws Exception {
    int gets = 50;
    sendAWriteThenReadsBehindIt(gets);
    client.shutdownOutput();
    await().atMost(Duration.ofSeconds(10)).until(() -> local.writeGate.getNumberOfDependents() > 0);
    local.writeGate.complete(null);

    String out = new String(client.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(out).startsWith("HTTP/1.1 201 Created");
    assertThat(count(out, "HTTP/1.1 200 OK")).as("answers before the node closed").isEqualTo(gets);
  }

  /**
   * Starts a node taking 2 pending requests whose first write never completes until the test says,
   * connects, and sends a POST of key {@code k} then {@code gets} GETs of it, pipelined.
   */
  private void sendAWriteThenReadsBehindIt(int gets) throws Exception {
    local.writeGate = new CompletableFuture<>();
    NodeConfig config = NodeConfig.builder().nodeId("n1").port("0").threads("1").maxPendingRequests("2").build();
    server = NodeServer.start(config, c -> local, InstantSource.system());
    await().atMost(Duration.ofSeconds(10)).until(() -> server.cache() != null);

    client = new Socket();
    client.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
    client.setSoTimeout(10_000);
    String requests = "POST /api/cache/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 1\r\n\r\n7" + "GET /api/cache/k HTTP/1.1\r\n\r\n".repeat(gets);
    client.getOutputStream().write(requests.getBytes(UTF_8));
    client.getOutputStream().flush();
  }

  private static int count(CharSequence text, String part) {
    String all = text.toString();
    int n = 0;
    for (int i = all.indexOf(part); i >= 0; i = all.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }

  private static void stream(Socket socket, AtomicLong written) {
    byte[] head = ("POST /api/cache/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        + BODY + "\r\n\r\n\"").getBytes(UTF_8);
    byte[] chunk = new byte[64 * 1024];
    java.util.Arrays.fill(chunk, (byte) 'x');
    try {
      OutputStream out = socket.getOutputStream();
      for (int i = 0; i < REQUESTS; i++) {
        out.write(head);
        int left = BODY - 2;
        while (left > 0) {
          int n = Math.min(left, chunk.length);
          out.write(chunk, 0, n);
          left -= n;
          written.addAndGet(n);
        }
        out.write('"');
        written.addAndGet(head.length + 1);
      }
    } catch (IOException e) {
      // closed by the test
    }
  }
}
