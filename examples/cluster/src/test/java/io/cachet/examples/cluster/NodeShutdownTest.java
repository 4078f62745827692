package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node shutting down (SIGTERM, the launcher's {@code stop N}) answers the requests it has taken
 * up before its threads stop, and answers new ones 503 {@code NotReady} meanwhile, which a balancer
 * retries on another node.
 */
final class NodeShutdownTest {

  private final LocalNodeCache local = new LocalNodeCache(1_000);
  private NodeServer server;
  private Thread closer;

  @AfterEach
  void stop() throws Exception {
    if (local.writeGate != null) {
      local.writeGate.complete(null);
    }
    if (closer != null) {
      closer.join(20_000);
    }
    if (server != null) {
      server.close();
    }
    local.close();
  }

  @Test
  void writeInFlightWhenTheShutdownBegins_isAnsweredBeforeTheNodeStops() throws Exception {
    local.writeGate = new CompletableFuture<>();
    NodeConfig config = NodeConfig.builder().nodeId("n1").port("0").threads("1").build();
    server = NodeServer.start(config, c -> local, InstantSource.system());
    await().atMost(Duration.ofSeconds(10)).until(() -> server.cache() != null);

    try (Socket writing = connect(); Socket other = connect()) {
      writing.getOutputStream().write(("POST /api/cache/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: 1\r\n\r\n7").getBytes(UTF_8));
      await().atMost(Duration.ofSeconds(10)).until(() -> local.writeGate.getNumberOfDependents() > 0);

      closer = new Thread(server::close, "closer");
      closer.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> refused(server.port())); // no longer accepting

      // A connection open before: a new request is refused with 503 NotReady, nothing done.
      other.getOutputStream().write("GET /api/cache/k HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(UTF_8));
      assertThat(readHead(other.getInputStream())).startsWith("HTTP/1.1 503").contains("NotReady")
          .contains("shutting down");

      local.writeGate.complete(null);
      assertThat(readHead(writing.getInputStream())).as("the write's answer").startsWith("HTTP/1.1 201");
      closer.join(10_000);
      assertThat(closer.isAlive()).as("close() returned once the write was answered").isFalse();
    }
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
    socket.setSoTimeout(10_000);
    return socket;
  }

  private static boolean refused(int port) {
    try (Socket probe = new Socket()) {
      probe.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Reads until the end of a response's body (its status line and headers, then the JSON body). */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    while (true) {
      String text = out.toString(UTF_8);
      int end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        int length = contentLength(text.substring(0, end));
        if (text.length() >= end + 4 + length) {
          return text;
        }
      }
      int n = in.read(buffer);
      if (n < 0) {
        return text.isEmpty() ? "EOF" : text;
      }
      out.write(buffer, 0, n);
    }
  }

  private static int contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        return Integer.parseInt(line.substring(15).trim());
      }
    }
    return 0;
  }
}
