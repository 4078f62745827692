package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/**
 * The launcher holds the balancer's port while it picks the broker's and the nodes' ports from the
 * same range, so none of them can be the balancer's; a port already taken fails at once, before
 * Kafka starts.
 */
final class BalancerPortReservationTest {

  @Test
  void reservedPort_cannotBeBoundByAnotherServer_untilReleased() throws IOException {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    ServerSocket reservation = ClusterLauncher.reserve("127.0.0.1", port);
    assertThat(reservation).isNotNull();
    try (ServerSocket other = new ServerSocket()) {
      assertThatThrownBy(() -> other.bind(new InetSocketAddress("127.0.0.1", port)))
          .as("a port picker probing it finds it taken").isInstanceOf(BindException.class);
    } finally {
      reservation.close();
    }
    try (ServerSocket balancer = new ServerSocket()) {
      balancer.bind(new InetSocketAddress("127.0.0.1", port)); // free again for the balancer
      assertThat(balancer.isBound()).isTrue();
    }
  }

  @Test
  void portTaken_failsNamingIt() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> ClusterLauncher.reserve("127.0.0.1", taken.getLocalPort()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("--port (BALANCER_PORT) " + taken.getLocalPort());
    }
  }

  @Test
  void portZero_reservesNothing() {
    assertThat(ClusterLauncher.reserve("127.0.0.1", 0)).isNull();
  }
}
