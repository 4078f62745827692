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
    List<String> done = new CopyOnWriteArrayList<>();
    NoClusterControl control = new NoClusterControl() {
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
    };
    for (String peer : List.of("192.0.2.2", "10.0.0.7", "fd00::2")) {
      EmbeddedChannel ch = new PeerChannel(new InetSocketAddress(peer, 40000),
          new BalancerHandler(new BackendSelector(List.of()), new Upstream(64 * 1024, Duration.ofSeconds(1)),
              control, Duration.ofSeconds(1), 16));
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
}
