package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import org.junit.jupiter.api.Test;

/** The node addresses the hub keys its channels by, and connects them to. */
final class TrackingHubAddressTest {

  @Test
  void ipv4() throws Exception {
    String node = TrackingHub.hostPort(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 6379));
    assertThat(node).isEqualTo("127.0.0.1:6379");
  }

  @Test
  void ipv6Literal_isBracketed_soTheChannelsUriNamesHostAndPort() throws Exception {
    String node = TrackingHub.hostPort(new InetSocketAddress(InetAddress.getByName("::1"), 6379));
    assertThat(node).isEqualTo("[0:0:0:0:0:0:0:1]:6379");
    URI uri = URI.create("redis://" + node);
    assertThat(uri.getHost()).isEqualTo("[0:0:0:0:0:0:0:1]");
    assertThat(uri.getPort()).isEqualTo(6379);
  }
}
