package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.examples.support.ProcessMemory;
import io.cachet.examples.support.RawHttp;
import io.cachet.testkit.redis.RedisServerExtension;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Memory per connection, measured on the proxy process: clients that pipeline thousands of GETs
 * of a 32 KB value and never read the replies (each could make the proxy hold 160 MB) leave its
 * resident memory within a few MB of where it was, other clients are served meanwhile, and once
 * such a client reads, it gets every reply, in order.
 *
 * <p>The heap is fixed and pre-touched ({@code -Xms = -Xmx}, {@code AlwaysPreTouch}) so the RSS
 * moves only with what the proxy holds outside it: Netty's direct buffers, where queued replies
 * live.
 */
@Tag("redis")
final class ProxyMemoryIT {

  private static final Logger log = LoggerFactory.getLogger(ProxyMemoryIT.class);
  private static final int VALUE_BYTES = 32 * 1024;
  private static final int REQUESTS = 5_000;
  /** RSS growth allowed: arena chunks, thread stacks, JIT; far below one abuser's 160 MB. */
  private static final long GROWTH_BOUND_KIB = 48 * 1024;

  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private static ProxyProcess proxy;
  private static final byte[] VALUE = new byte[VALUE_BYTES];

  @BeforeAll
  static void startProxy() {
    Arrays.fill(VALUE, (byte) 'v');
    try (RespClient redis = RespClient.open(REDIS.server().port())) {
      redis.command("SET".getBytes(UTF_8), "big".getBytes(UTF_8), VALUE);
    }
    proxy = ProxyProcess.start(Map.of(
            "REDIS_ADDRESS", REDIS.server().address(),
            "THREADS", "2"),
        "-Xms96m", "-Xmx96m", "-XX:+AlwaysPreTouch", "-XX:MaxDirectMemorySize=512m");
  }

  @AfterAll
  static void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void clientsThatPipelineAndNeverRead_leaveTheProxysMemoryBounded_andGetEveryReplyOnceTheyRead() throws Exception {
    byte[] resp = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(REQUESTS).getBytes(ISO_8859_1);
    byte[] http = "GET /proxy?key=big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(REQUESTS).getBytes(ISO_8859_1);
    // Warm up both protocols with clients that do read, so the baseline has the buffers and
    // code a normal load needs.
    for (int round = 0; round < 3; round++) {
      try (Socket client = connect(proxy.respPort())) {
        client.getOutputStream().write(resp, 0, resp.length / 10);
        readRespReplies(client.getInputStream(), REQUESTS / 10);
      }
      try (Socket client = connect(proxy.httpPort())) {
        client.getOutputStream().write(http, 0, http.length / 10);
        readHttpReplies(client.getInputStream(), REQUESTS / 10);
      }
    }
    long pid = proxy.process().pid();
    long baseline = ProcessMemory.rssKib(pid);

    List<Socket> abusers = new ArrayList<>();
    List<Thread> writers = new ArrayList<>();
    long peak;
    try (ProcessMemory memory = ProcessMemory.sample(pid)) {
      for (int i = 0; i < 4; i++) {
        boolean respClient = i % 2 == 0;
        Socket abuser = connect(respClient ? proxy.respPort() : proxy.httpPort());
        abusers.add(abuser);
        Thread writer = new Thread(() -> {
          try {
            abuser.getOutputStream().write(respClient ? resp : http);
          } catch (IOException e) {
            // closed at the end of the test while blocked: expected
          }
        }, "abuser-" + i);
        writer.setDaemon(true);
        writer.start();
        writers.add(writer);
      }
      // Give the proxy time to take in as much as it will, while others are served.
      long until = System.nanoTime() + 3_000_000_000L;
      while (System.nanoTime() - until < 0) {
        try (RespClient other = proxy.resp()) {
          assertThat((byte[]) other.command("GET", "big")).hasSize(VALUE_BYTES);
        }
        assertThat(RawHttp.get(proxy.httpPort(), "/health").status()).isEqualTo(200);
      }
      peak = memory.peakKib();
    }
    log.info("proxy RSS: baseline {} KiB, peak with 4 non-reading pipelining clients {} KiB (+{} KiB)",
        baseline, peak, peak - baseline);
    assertThat(peak - baseline).as("RSS growth in KiB (baseline %d KiB)", baseline).isLessThan(GROWTH_BOUND_KIB);

    // Held requests were not lost: a client that starts reading gets all its replies, in order.
    readRespReplies(abusers.get(0).getInputStream(), REQUESTS);
    readHttpReplies(abusers.get(1).getInputStream(), REQUESTS);
    for (Socket abuser : abusers) {
      abuser.close();
    }
    for (Thread writer : writers) {
      writer.join(10_000);
    }
    assertThat(proxy.isAlive()).isTrue();
    assertThat(proxy.log()).doesNotContain("OutOfMemoryError").doesNotContain("OutOfDirectMemoryError");
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

  /** Reads {@code n} bulk replies of the value, checking each. */
  private static void readRespReplies(InputStream raw, int n) throws IOException {
    InputStream in = new BufferedInputStream(raw, 64 * 1024);
    byte[] header = ("$" + VALUE_BYTES + "\r\n").getBytes(ISO_8859_1);
    byte[] body = new byte[VALUE_BYTES + 2];
    for (int i = 0; i < n; i++) {
      assertThat(in.readNBytes(header.length)).as("reply %d", i).isEqualTo(header);
      assertThat(in.readNBytes(body.length)).hasSize(body.length);
      assertThat(body.length).isEqualTo(VALUE_BYTES + 2);
    }
  }

  /** Reads {@code n} HTTP responses, checking each is a 200 with the value. */
  private static void readHttpReplies(InputStream raw, int n) throws IOException {
    InputStream in = new BufferedInputStream(raw, 64 * 1024);
    for (int i = 0; i < n; i++) {
      RawHttp.Response response = RawHttp.readNext(in);
      assertThat(response.status()).as("response %d", i).isEqualTo(200);
      assertThat(response.body()).hasSize(VALUE_BYTES);
    }
  }
}
