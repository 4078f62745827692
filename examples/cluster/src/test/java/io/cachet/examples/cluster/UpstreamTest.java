package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.Future;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The balancer's client to the nodes, against a raw stub node on 127.0.0.1. */
final class UpstreamTest {

  private final EventLoopGroup group = NettyTransport.group(1, "upstream-test");
  private final EventLoop loop = group.next();
  private final AtomicLong now = new AtomicLong();
  private final AtomicInteger connections = new AtomicInteger();
  private ServerSocket stub;

  @AfterEach
  void stop() throws IOException {
    if (stub != null) {
      stub.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** A node answering every request on a connection with {@code response}, keeping it open. */
  private Backend node(String response) throws IOException {
    stub = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      while (!stub.isClosed()) {
        try {
          Socket socket = stub.accept();
          connections.incrementAndGet();
          Thread serve = new Thread(() -> serve(socket, response), "stub-connection");
          serve.setDaemon(true);
          serve.start();
        } catch (IOException closed) {
          return;
        }
      }
    }, "stub-node");
    acceptor.setDaemon(true);
    acceptor.start();
    return new Backend(0, "n1", "127.0.0.1", stub.getLocalPort());
  }

  private static void serve(Socket socket, String response) {
    try (socket) {
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), ISO_8859_1));
      OutputStream out = socket.getOutputStream();
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) { // the end of a GET's headers
          out.write(response.getBytes(ISO_8859_1));
          out.flush();
        }
      }
    } catch (IOException gone) {
      // the client closed
    }
  }

  /** Sends a GET and waits for its outcome, and for the event loop to have pooled its connection. */
  private Future<FullHttpResponse> get(Upstream upstream, Backend node) throws Exception {
    Future<FullHttpResponse> answer = loop.submit(() -> upstream.send(loop, node,
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/cache/k"), Duration.ofSeconds(5)))
        .get(5, TimeUnit.SECONDS).await();
    loop.submit(() -> { }).get(5, TimeUnit.SECONDS); // after the task that completed it, listeners included
    return answer;
  }

  @Test
  void pooledConnection_idleForHalfTheNodesIdleTimeout_isNotReused() throws Exception {
    Backend node = node("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    Upstream upstream = new Upstream(64 * 1024, Duration.ofSeconds(2), Duration.ofSeconds(60), now::get);

    get(upstream, node).getNow().release();
    now.addAndGet(Duration.ofSeconds(29).toNanos());
    get(upstream, node).getNow().release();
    assertThat(connections).as("reused within half the node's idle timeout").hasValue(1);

    now.addAndGet(Duration.ofSeconds(30).toNanos());
    Future<FullHttpResponse> third = get(upstream, node);
    assertThat(third.isSuccess()).isTrue();
    third.getNow().release();
    assertThat(connections).as("a new connection once idle for 30 s").hasValue(2);
  }

  @Test
  void responseTheClientCannotRead_failsTheRequest_isNotForwardedAsAnAnswer() throws Exception {
    Backend node = node("HTTP/1.1 201 Created\r\nLocation: /" + "k".repeat(20 * 1024)
        + "\r\nContent-Length: 2\r\n\r\nok");
    Upstream upstream = new Upstream(64 * 1024, Duration.ofSeconds(2), Duration.ofSeconds(60), now::get);

    Future<FullHttpResponse> answer = get(upstream, node);

    assertThat(answer.isSuccess()).isFalse();
    assertThat(answer.cause()).isInstanceOf(IOException.class).hasMessageContaining("could not be read");
  }
}
