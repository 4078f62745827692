package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The node addresses the hub keys its channels by, and connects them to. */
final class TrackingHubAddressTest {

  @Test
  void ipv4() throws Exception {
    String node = TrackingHub.hostPort(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 6379));
    assertThat(node).isEqualTo("127.0.0.1:6379");
  }

  @Test
  void ipv6Literal_isBracketed() throws Exception {
    String node = TrackingHub.hostPort(new InetSocketAddress(InetAddress.getByName("::1"), 6379));
    assertThat(node).isEqualTo("[0:0:0:0:0:0:0:1]:6379");
  }

  /**
   * A host name with an underscore (a Docker Compose service name) is legal for the resolver but
   * not for {@link java.net.URI}, which read its host as null: the channel could never connect.
   */
  @Test
  void hostNameWithAnUnderscore_isConnectedTo() throws Exception {
    InvalidationChannel.Listener ignored = TrackingHubReconcileTest.IGNORING;
    InvalidationChannel channel = new InvalidationChannel("test", "my_redis:6379", null, null, null,
        java.util.List.of(new byte[0]), java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1), ignored);
    assertThat(channel.host()).isEqualTo("my_redis");
    assertThat(channel.port()).isEqualTo(6379);
  }
}
