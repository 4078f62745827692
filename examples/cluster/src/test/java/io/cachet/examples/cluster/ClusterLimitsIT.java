package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.examples.support.ProcessMemory;
import io.cachet.examples.support.RawHttp;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Memory per connection on the node and the balancer of the launcher jar, measured on their
 * processes (resident memory of the node's and the launcher's JVM, heaps fixed and pre-touched so
 * RSS moves only with buffers; and the node's {@code netty_direct_memory_used_bytes}):
 * <ul>
 *   <li>trickled bodies are answered 408 after {@code --request-read-timeout} and their memory is
 *       given back, where they used to pin {@code --max-body} bytes each forever;
 *   <li>connections past {@code --max-connections} get 503 and hold nothing;
 *   <li>a client pipelining GETs of a large value and never reading holds the node to
 *       {@code --max-queued-response-bytes} plus one response.
 * </ul>
 */
@Tag("kafka")
final class ClusterLimitsIT {

  private static final Logger log = LoggerFactory.getLogger(ClusterLimitsIT.class);
  private static final int MAX_CONNECTIONS = 40;
  private static final int READ_TIMEOUT_SECONDS = 3;
  private static final int BODY = 1_000_000;
  private static final int SENT = 768 * 1024;
  private static ClusterProcess cluster;

  @BeforeAll
  static void startCluster() {
    cluster = ClusterProcess.start(1, List.of("-Xms128m", "-Xmx128m", "-XX:+AlwaysPreTouch"),
        "-Xms128m -Xmx128m -XX:+AlwaysPreTouch -XX:+UseSerialGC -XX:TieredStopAtLevel=1",
        "--max-connections", Integer.toString(MAX_CONNECTIONS),
        "--request-read-timeout", Integer.toString(READ_TIMEOUT_SECONDS),
        "--max-body", Integer.toString(BODY));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * Two waves of 30 clients each send 768 KB of a 1 MB body and stall: each is answered 408 once
   * the read timeout passes and closed, so the second wave reuses the first one's memory and the
   * node's RSS does not grow again (without the timeout the first wave would pin its 23 MB
   * forever and the second add as much).
   */
  @Test
  void node_trickledBodies_are408AfterTheReadTimeout_andTheirMemoryIsReused() throws Exception {
    int port = cluster.nodePort(1);
    long pid = cluster.nodePid(1);
    long baseline = ProcessMemory.rssKib(pid);
    long[] peaks = new long[2];
    for (int wave = 0; wave < 2; wave++) {
      List<Socket> tricklers = startBodies(port, 30);
      try (ProcessMemory memory = ProcessMemory.sample(pid)) {
        long start = System.nanoTime();
        for (Socket trickler : tricklers) {
          String answer = readAll(trickler.getInputStream());
          assertThat(answer).startsWith("HTTP/1.1 408 Request Timeout").contains("\"error\":\"RequestTimeout\"");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(seconds).as("all answered 408 after the %d s read timeout", READ_TIMEOUT_SECONDS)
            .isLessThan(READ_TIMEOUT_SECONDS + 5);
        peaks[wave] = memory.peakKib();
      } finally {
        closeAll(tricklers);
      }
    }
    log.info("node RSS: {} KiB before, peak {} KiB in the first wave of 30 trickled bodies, {} KiB in the second",
        baseline, peaks[0], peaks[1]);
    assertThat(peaks[1] - peaks[0]).as("RSS growth of the second wave over the first, KiB").isLessThan(8 * 1024);
    assertThat(cluster.get(cluster.node(1), "trickle-0").status()).as("nothing was written").isEqualTo(404);
  }

  /**
   * 150 clients each try to send 768 KB: the first {@value #MAX_CONNECTIONS} are admitted, the
   * others get 503 {@code TooManyConnections} at once; the process's RSS grows by what the
   * admitted ones send, not by what all would. Measured on the node and on the balancer.
   */
  @Test
  void connectionsPastTheLimit_get503_andHoldNoMemory() throws Exception {
    assertConnectionLimit("node", cluster.nodePort(1), cluster.nodePid(1));
    assertConnectionLimit("balancer", cluster.port(), cluster.pid());
  }

  private void assertConnectionLimit(String server, int port, long pid) throws Exception {
    await().atMost(Duration.ofSeconds(15)).until(() -> RawHttp.get(port, "/health/live").status() == 200);
    long baseline = ProcessMemory.rssKib(pid);
    List<Socket> clients = new ArrayList<>();
    long peak;
    int refused = 0;
    try (ProcessMemory memory = ProcessMemory.sample(pid)) {
      for (int i = 0; i < 150; i++) {
        Socket socket = connect(port);
        clients.add(socket);
        try {
          socket.getOutputStream().write(bodyStart("/api/cache/limit-" + i));
          socket.getOutputStream().write(new byte[SENT]);
        } catch (IOException e) {
          // refused and closed while we were still sending: read its answer below
        }
      }
      for (Socket socket : clients) {
        socket.setSoTimeout(1_000);
        String answer = readSome(socket.getInputStream());
        if (answer.startsWith("HTTP/1.1 503")) {
          assertThat(answer).contains("\"error\":\"TooManyConnections\"");
          refused++;
        }
      }
      peak = memory.peakKib();
    } finally {
      closeAll(clients);
    }
    log.info("{}: {} of 150 connections refused; RSS {} KiB before, peak {} KiB (+{} KiB)", server, refused,
        baseline, peak, peak - baseline);
    assertThat(refused).as(server + " refusals").isGreaterThanOrEqualTo(150 - MAX_CONNECTIONS);
    // 40 admitted x 768 KB = 30 MB; all 150 would be 112 MB.
    assertThat(peak - baseline).as(server + " RSS growth in KiB").isLessThan(64 * 1024);
    await().atMost(Duration.ofSeconds(15)).until(() -> RawHttp.get(port, "/health/live").status() == 200);
  }

  /**
   * Four clients pipeline 2,000 GETs of a 256 KB value each and never read: the node's direct
   * memory stays within a few MB (it was 2 GB of responses); once one reads, it gets them all.
   */
  @Test
  void node_clientsNotReadingResponses_holdTheNodeToTheQueuedResponseBound() throws Exception {
    int port = cluster.nodePort(1);
    String value = "\"" + "v".repeat(256 * 1024) + "\"";
    assertThat(cluster.post(cluster.node(1), "large", value).status()).isEqualTo(201);
    long before = directMemory(port);
    long pid = cluster.nodePid(1);
    long baseline = ProcessMemory.rssKib(pid);
    byte[] gets = "GET /api/cache/large HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2_000).getBytes(ISO_8859_1);
    List<Socket> readers = new ArrayList<>();
    long peak;
    long direct;
    try (ProcessMemory memory = ProcessMemory.sample(pid)) {
      for (int i = 0; i < 4; i++) {
        Socket socket = connect(port);
        readers.add(socket);
        Thread writer = new Thread(() -> {
          try {
            socket.getOutputStream().write(gets);
          } catch (IOException e) {
            // closed at the end while blocked
          }
        });
        writer.setDaemon(true);
        writer.start();
      }
      long until = System.nanoTime() + 3_000_000_000L;
      while (System.nanoTime() - until < 0) {
        assertThat(cluster.get(cluster.node(1), "large").status()).as("others are served").isEqualTo(200);
      }
      direct = directMemory(port);
      peak = memory.peakKib();
      readResponses(readers.get(0).getInputStream(), 2_000, value.length());
    } finally {
      closeAll(readers);
    }
    log.info("node with 4 non-reading clients: direct memory {} -> {} bytes, RSS {} -> peak {} KiB", before, direct,
        baseline, peak);
    assertThat(direct - before).as("pooled direct memory growth").isLessThan(16L * 1024 * 1024);
    assertThat(peak - baseline).as("RSS growth in KiB").isLessThan(48 * 1024);
  }

  // ------------------------------------------------------------------ helpers

  private static long directMemory(int port) {
    String text = RawHttp.get(port, "/metrics").body();
    for (String line : text.split("\n")) {
      if (line.startsWith("netty_direct_memory_used_bytes ")) {
        return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
      }
    }
    throw new IllegalStateException("no netty_direct_memory_used_bytes in /metrics");
  }

  private static byte[] bodyStart(String path) {
    return ("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + BODY
        + "\r\n\r\n").getBytes(UTF_8);
  }

  private static List<Socket> startBodies(int port, int n) throws IOException {
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Socket socket = connect(port);
      sockets.add(socket);
      socket.getOutputStream().write(bodyStart("/api/cache/trickle-" + i));
      socket.getOutputStream().write(new byte[SENT]);
      socket.setSoTimeout((READ_TIMEOUT_SECONDS + 10) * 1000);
    }
    return sockets;
  }

  private static Socket connect(int port) {
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(30_000);
      return socket;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), UTF_8);
  }

  /** Reads what arrives within the socket's timeout, or until it closes. */
  private static String readSome(InputStream in) {
    byte[] buffer = new byte[4096];
    StringBuilder sb = new StringBuilder();
    try {
      for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
        sb.append(new String(buffer, 0, n, UTF_8));
      }
    } catch (IOException e) {
      // timeout: an admitted connection still waiting for the rest of its body
    }
    return sb.toString();
  }

  private static void readResponses(InputStream raw, int n, int valueLength) throws IOException {
    InputStream in = new BufferedInputStream(raw, 64 * 1024);
    for (int i = 0; i < n; i++) {
      RawHttp.Response response = RawHttp.readNext(in);
      assertThat(response.status()).as("response %d", i).isEqualTo(200);
      assertThat(response.body().length()).isGreaterThan(valueLength);
    }
  }

  private static void closeAll(List<Socket> sockets) {
    for (Socket socket : sockets) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
