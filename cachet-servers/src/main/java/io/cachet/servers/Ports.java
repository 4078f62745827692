package io.cachet.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Free TCP ports, found by binding port 0. Another process may take one before the server that
 * is given it binds it; {@link RedisProcess} retries with another port when that happens.
 */
public final class Ports {

    private Ports() {}

    /**
     * Returns {@code count} distinct ports that were free on {@code host} a moment ago.
     *
     * @param host the address the ports will be bound on, e.g. {@code "127.0.0.1"}
     * @param count how many ports
     * @return the ports
     * @throws UncheckedIOException when {@code host} has no free port or cannot be bound
     */
    public static int[] free(String host, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        // All probes stay open until every port is picked, so the ports are distinct.
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host));
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find free ports on " + host, e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // The probe socket is gone either way.
                }
            }
        }
    }
}
