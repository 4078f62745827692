package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.examples.support.RawHttp;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The balancer's own {@code /admin} answers, over a {@link ClusterControl} stub, without nodes. */
final class BalancerAdminTest {

  private Balancer balancer;

  @AfterEach
  void stop() {
    if (balancer != null) {
      balancer.close();
    }
  }

  /** A status query that fails (the broker exited between two looks at it) is answered, not dropped. */
  @Test
  void failingStatusQuery_isAnswered500Json() {
    balancer = Balancer.start("127.0.0.1", 0, List.of(), new FailingControl(), 1024, Duration.ofSeconds(1), 1,
        ServerLimits.defaults());
    for (String path : List.of("/admin/nodes", "/admin/kafka")) {
      RawHttp.Response response = RawHttp.get(balancer.port(), path);
      assertThat(response.status()).as(path).isEqualTo(500);
      assertThat(response.body()).contains("\"error\":\"AdminQueryFailed\"").contains("Kafka is not running");
    }
  }

  /** {@code /admin} kills processes: a client on another machine is refused, and nothing is done. */
  @Test
  void adminAction_fromAnotherMachine_isRefused403_andNotDone() throws Exception {
    RecordingControl control = new RecordingControl();
    List<String> done = control.done;
    for (String peer : List.of("192.0.2.2", "10.0.0.7", "fd00::2")) {
      EmbeddedChannel ch = new PeerChannel(new InetSocketAddress(peer, 40000),
          new BalancerHandler(new BackendSelector(List.of()), upstream(), control, Duration.ofSeconds(1), 16));
      for (String[] request : List.of(new String[] {"POST", "/admin/nodes/2/kill"}, new String[] {"GET", "/admin/nodes"})) {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(request[0]), request[1]));
        ch.runPendingTasks();
        FullHttpResponse response = ch.readOutbound();
        assertThat(response.status().code()).as(peer + " " + request[1]).isEqualTo(403);
        assertThat(response.content().toString(UTF_8)).contains("\"error\":\"Forbidden\"")
            .contains("clients on this machine only");
        response.release();
      }
      ch.finishAndReleaseAll();
    }
    assertThat(done).as("actions run").isEmpty();

    assertThat(BalancerHandler.fromThisMachine(new InetSocketAddress("127.0.0.1", 1))).isTrue();
    assertThat(BalancerHandler.fromThisMachine(new InetSocketAddress("::1", 1))).isTrue();
    assertThat(BalancerHandler.fromThisMachine(null)).isFalse();
  }

  /**
   * A browser on this machine is a client on this machine too: a request a web page may have made
   * (a form posted from any site, a name of the page's own resolving here) is refused, and nothing
   * is done; a tool's request, without those headers, is served.
   */
  @Test
  void adminAction_thatAWebPageMayHaveMade_isRefused403_andNotDone() throws Exception {
    RecordingControl control = new RecordingControl();
    List<String> done = control.done;
    EmbeddedChannel ch = new PeerChannel(new InetSocketAddress("127.0.0.1", 40000),
        new BalancerHandler(new BackendSelector(List.of()), upstream(), control, Duration.ofSeconds(1), 16));
    List<String[]> browserHeaders = List.of(
        new String[] {"Origin", "http://evil.example"},
        new String[] {"Origin", "null"},
        new String[] {"Sec-Fetch-Site", "cross-site"},
        new String[] {"Host", "evil.example:8080"});
    for (String[] header : browserHeaders) {
      for (String[] request : List.of(new String[] {"POST", "/admin/nodes/2/kill"}, new String[] {"GET", "/admin/nodes"})) {
        DefaultFullHttpRequest http =
            new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(request[0]), request[1]);
        http.headers().set("Host", "127.0.0.1:8080").set(header[0], header[1]);
        ch.writeInbound(http);
        ch.runPendingTasks();
        FullHttpResponse response = ch.readOutbound();
        assertThat(response.status().code()).as(header[0] + ": " + header[1] + " " + request[1]).isEqualTo(403);
        assertThat(response.content().toString(UTF_8)).contains("\"error\":\"Forbidden\"")
            .contains("a web page may have made");
        response.release();
      }
    }
    assertThat(done).as("actions run").isEmpty();

    for (String host : List.of("127.0.0.1:8080", "localhost", "[::1]:8080")) {
      DefaultFullHttpRequest http = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/admin/nodes");
      http.headers().set("Host", host).set("Sec-Fetch-Site", "none"); // an address typed into the browser
      ch.writeInbound(http);
      ch.runPendingTasks();
      FullHttpResponse response = ch.readOutbound();
      assertThat(response.status().code()).as(host).isEqualTo(200);
      response.release();
    }
    assertThat(done).containsExactly("nodes", "nodes", "nodes");
    ch.finishAndReleaseAll();
  }

  /** Records the status queries and kills it is asked for. */
  private static final class RecordingControl extends NoClusterControl {
    final List<String> done = new CopyOnWriteArrayList<>();

    @Override
    public String nodesJson() {
      done.add("nodes");
      return "{}";
    }

    @Override
    public CompletionStage<ApiResponse> killNode(int n) {
      done.add("kill " + n);
      return super.killNode(n);
    }
  }

  /** An embedded channel whose peer is {@code remote}. */
  private static final class PeerChannel extends EmbeddedChannel {
    private final SocketAddress remote;

    PeerChannel(SocketAddress remote, ChannelHandler handler) throws Exception {
      super(false, false, handler); // registered below, once the peer's address is set
      this.remote = remote;
      register();
    }

    @Override
    protected SocketAddress remoteAddress0() {
      return remote;
    }
  }

  /** Status queries that throw, as {@code KafkaProcess.pid()} does once the broker has exited. */
  private static final class FailingControl extends NoClusterControl {
    @Override
    public String nodesJson() {
      throw new IllegalStateException("Kafka is not running");
    }

    @Override
    public String kafkaJson() {
      return nodesJson();
    }
  }

  /** An upstream never used: these requests go to no node. */
  private static Upstream upstream() {
    return new Upstream(64 * 1024, Duration.ofSeconds(1), Duration.ZERO, System::nanoTime);
  }
}
