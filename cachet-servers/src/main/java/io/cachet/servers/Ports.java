package io.cachet.servers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Free TCP ports for servers that are told their port before they bind it.
 *
 * <p>A port found by binding port 0 comes from the kernel's ephemeral range, which the kernel
 * also hands to every outgoing connection and every other {@code bind(0)}: between the probe and
 * the server's own bind, a Kafka client's connection or another server can take it. So the ports
 * given out here are picked from below that range ({@code /proc/sys/net/ipv4/ip_local_port_range},
 * 32768 when it cannot be read), where the kernel never assigns ports by itself, and far enough
 * below it that a Redis Cluster node's bus port (port + 10000) is outside it too, and outside the
 * ports handed out. Each JVM walks
 * that range from a random start, so it does not give the same port twice until it has walked it
 * all, and two JVMs rarely probe the same port at once. When that range is too small, ports come
 * from {@code bind(0)}. {@link RedisProcess} still retries with another port when a bind fails.
 */
public final class Ports {

    /** The lowest port handed out; well above the registered services most hosts run. */
    static final int LOWEST = 15_000;
    /** Room above a port for the Redis Cluster bus port, which is the port + 10000. */
    static final int BUS_OFFSET = 10_000;
    private static final int MIN_RANGE = 1_000;
    private static final int DEFAULT_EPHEMERAL_LOW = 32_768;
    private static final @Nullable Range RANGE = Range.belowEphemeral(ephemeralLow());

    private Ports() {}

    /**
     * Returns {@code count} distinct ports that were free on {@code host} a moment ago.
     *
     * @param host the address the ports will be bound on, e.g. {@code "127.0.0.1"}
     * @param count how many ports
     * @return the ports
     * @throws UncheckedIOException when {@code host} has no free port or cannot be bound
     * @throws IllegalArgumentException when {@code count} is negative or more than the range holds
     */
    public static int[] free(String host, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + host, e);
        }
        return RANGE == null ? ephemeral(address, count) : RANGE.next(address, count);
    }

    /** The first port of the kernel's ephemeral range, or the Linux default when unknown. */
    static int ephemeralLow() {
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        // Read by line: some kernels' procfs report a size that makes a whole-file read stop short.
        try (BufferedReader reader = Files.newBufferedReader(range, StandardCharsets.US_ASCII)) {
            String line = reader.readLine();
            return Integer.parseInt(line.trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return DEFAULT_EPHEMERAL_LOW;
        }
    }

    /** Whether {@code port} can be bound on {@code address} right now. */
    static boolean bindable(InetAddress address, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(address, port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code count} ports from {@code bind(0)}, every probe held until all are picked so they differ. */
    static int[] ephemeral(InetAddress address, int count) {
        List<ServerSocket> probes = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket probe = new ServerSocket(0, 1, address);
                probes.add(probe);
                ports[i] = probe.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find free ports on " + address, e);
        } finally {
            for (ServerSocket probe : probes) {
                try {
                    probe.close();
                } catch (IOException ignored) {
                    // The probe is gone either way.
                }
            }
        }
    }

    /** The ports [{@code low}, {@code high}), walked in order from a random start. */
    static final class Range {
        private final int low;
        private final int size;
        private int cursor; // guarded by this

        Range(int low, int high) {
            this.low = low;
            this.size = high - low;
            this.cursor = ThreadLocalRandom.current().nextInt(size);
        }

        /**
         * The range below {@code ephemeralLow} whose bus ports (port + 10000) lie below
         * {@code ephemeralLow} and outside the range itself, or null when that is too small.
         */
        static @Nullable Range belowEphemeral(int ephemeralLow) {
            int high = Math.min(Math.min(ephemeralLow, 65_536) - BUS_OFFSET, LOWEST + BUS_OFFSET);
            return high - LOWEST >= MIN_RANGE ? new Range(LOWEST, high) : null;
        }

        int low() {
            return low;
        }

        int high() {
            return low + size;
        }

        /** The next {@code count} ports of the range that can be bound on {@code address} now. */
        synchronized int[] next(InetAddress address, int count) {
            if (count > size) {
                throw new IllegalArgumentException(
                        "asked for " + count + " ports; [" + low + ", " + high() + ") has " + size);
            }
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ports[i] = next(address);
            }
            return ports;
        }

        /** The next port of the range that can be bound on {@code address} now. */
        synchronized int next(InetAddress address) {
            for (int tried = 0; tried < size; tried++) {
                int port = low + cursor;
                cursor = (cursor + 1) % size;
                if (bindable(address, port)) {
                    return port;
                }
            }
            throw new UncheckedIOException(new IOException(
                    "no free port in [" + low + ", " + high() + ") on " + address));
        }
    }
}
