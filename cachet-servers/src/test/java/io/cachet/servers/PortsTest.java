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
    void free_portsAreBelowTheEphemeralRange_withTheirBusPortsOutsideTheRange_andDistinct() {
        int ephemeralLow = Ports.ephemeralLow();
        Ports.Range range = Ports.Range.belowEphemeral(ephemeralLow);
        assumeTrue(range != null, "this host's ephemeral range starts too low for a range below it");

        int[] ports = Ports.free("127.0.0.1", 50);

        assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(50);
        assertThat(Arrays.stream(ports).boxed()).allSatisfy(port -> {
            assertThat(port).isBetween(range.low(), range.high() - 1);
            assertThat(port + Ports.BUS_OFFSET).isLessThan(ephemeralLow).isGreaterThanOrEqualTo(range.high());
        });
    }

    @Test
    void range_skipsABoundPort_andWrapsAround() throws IOException {
        int port = lowPort();
        try (ServerSocket taken = bind(port)) {
            assumeTrue(Ports.bindable(LOOPBACK, port + 1), "the port after the taken one is free");
            Ports.Range range = new Ports.Range(port, port + 2);

            assertThat(range.next(LOOPBACK)).isEqualTo(port + 1);
            assertThat(range.next(LOOPBACK)).isEqualTo(port + 1);
        }
    }

    @Test
    void range_withNothingFree_failsNamingIt() throws IOException {
        int port = lowPort();
        try (ServerSocket taken = bind(port)) {
            Ports.Range range = new Ports.Range(port, port + 1);

            assertThatThrownBy(() -> range.next(LOOPBACK))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("no free port in [" + port + ", " + (port + 1) + ")");
        }
    }

    @Test
    void range_refusesMorePortsThanItHolds() {
        Ports.Range range = new Ports.Range(15_000, 15_002);

        assertThatThrownBy(() -> range.next(LOOPBACK, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("asked for 3 ports; [15000, 15002) has 2");
    }

    @Test
    void belowEphemeral_keepsBusPortsOutOfTheRangeAndTheEphemeralRange_andIsAbsentWhenTooSmall() {
        Ports.Range linuxDefault = Ports.Range.belowEphemeral(32_768);
        assertThat(linuxDefault.low()).isEqualTo(15_000);
        assertThat(linuxDefault.high()).isEqualTo(22_768);

        // Higher up, the range stops where bus ports would start falling inside it.
        assertThat(Ports.Range.belowEphemeral(49_152).high()).isEqualTo(25_000);
        assertThat(Ports.Range.belowEphemeral(25_000)).isNull();
    }

    @Test
    void ephemeral_holdsEveryProbeUntilAllArePicked_soThePortsDiffer() {
        int[] ports = Ports.ephemeral(LOOPBACK, 20);

        assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(20);
    }

    @Test
    void free_rejectsANegativeCount() {
        assertThatThrownBy(() -> Ports.free("127.0.0.1", -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("count must be >= 0, was -1");
    }

    /** A port below the ephemeral range, where the kernel does not hand out ports by itself. */
    private static int lowPort() {
        assumeTrue(Ports.Range.belowEphemeral(Ports.ephemeralLow()) != null, "no range below the ephemeral one");
        return Ports.free("127.0.0.1", 1)[0];
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.bind(new InetSocketAddress(LOOPBACK, port), 1);
        return socket;
    }
}
