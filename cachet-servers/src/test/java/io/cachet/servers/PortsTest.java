package io.cachet.servers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

final class PortsTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /**
     * The kernel hands ports of its ephemeral range to outgoing connections and to other
     * {@code bind(0)} calls at any time; a port picked from it can be gone before the server that
     * was given it binds it.
     */
    @Test
    void free_portsAreBelowTheEphemeralRange_withRoomForTheClusterBusPort_andDistinct() {
        int ephemeralLow = Ports.ephemeralLow();
        int[] ports = Ports.free("127.0.0.1", 50);

        assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(50);
        assertThat(Arrays.stream(ports).boxed()).allSatisfy(port -> {
            assertThat(port).isGreaterThanOrEqualTo(Ports.LOWEST);
            assertThat(port + Ports.BUS_OFFSET).isLessThan(ephemeralLow);
            assertThat(Ports.bindable(LOOPBACK, port)).isTrue();
        });
    }

    @Test
    void range_skipsABoundPort_andWrapsAround() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(LOOPBACK, 0), 1);
            int port = taken.getLocalPort();
            assumeTrue(Ports.bindable(LOOPBACK, port + 1), "the port after the taken one is free");
            Ports.Range range = new Ports.Range(port, port + 2);

            assertThat(range.next(LOOPBACK)).isEqualTo(port + 1);
            assertThat(range.next(LOOPBACK)).isEqualTo(port + 1);
        }
    }

    @Test
    void range_withNothingFree_failsNamingIt() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(LOOPBACK, 0), 1);
            int port = taken.getLocalPort();
            Ports.Range range = new Ports.Range(port, port + 1);

            assertThatThrownBy(() -> range.next(LOOPBACK))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("no free port in [" + port + ", " + (port + 1) + ")");
        }
    }

    @Test
    void belowEphemeral_leavesRoomForBusPorts_andIsAbsentWhenTooSmall() {
        Ports.Range linuxDefault = Ports.Range.belowEphemeral(32_768);
        assertThat(linuxDefault.low()).isEqualTo(15_000);
        assertThat(linuxDefault.high()).isEqualTo(22_768);

        assertThat(Ports.Range.belowEphemeral(49_152).high()).isEqualTo(39_152);
        assertThat(Ports.Range.belowEphemeral(25_000)).isNull();
    }

    @Test
    void free_rejectsANegativeCount() {
        assertThatThrownBy(() -> Ports.free("127.0.0.1", -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("count must be >= 0, was -1");
    }
}
