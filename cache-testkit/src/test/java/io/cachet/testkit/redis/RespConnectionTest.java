package io.cachet.testkit.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Decodes canned replies from a fake server that answers every connection with fixed bytes. */
final class RespConnectionTest {
    private ServerSocket server;
    private CompletableFuture<String> request;

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void close() throws IOException {
        server.close();
    }

    @Test
    void command_encodesArgumentsAsBulkStrings() throws Exception {
        try (RespConnection connection = connectReplying("+OK\r\n")) {
            assertThat(connection.command("SET", "k", "vé")).isEqualTo("OK");
        }
        assertThat(request.get(5, TimeUnit.SECONDS)).isEqualTo("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nvé\r\n");
    }

    @Test
    void command_resp3Aggregates() {
        try (RespConnection connection = connectReplying("%2\r\n+a\r\n:1\r\n$1\r\nb\r\n~2\r\n#t\r\n#f\r\n")) {
            assertThat(connection.command("X")).isEqualTo(Map.of("a", 1L, "b", Set.of(true, false)));
        }
    }

    @Test
    void command_resp3Scalars() {
        String reply = "*6\r\n_\r\n$-1\r\n,1.5\r\n(12345678901234567890\r\n=8\r\ntxt:abcd\r\n*-1\r\n";
        try (RespConnection connection = connectReplying(reply)) {
            assertThat(connection.command("X")).isEqualTo(
                    Arrays.asList(null, null, 1.5, new BigInteger("12345678901234567890"), "abcd", null));
        }
    }

    @Test
    void command_skipsAttributes() {
        try (RespConnection connection = connectReplying("|1\r\n+ttl\r\n:3\r\n+OK\r\n")) {
            assertThat(connection.command("X")).isEqualTo("OK");
        }
    }

    @Test
    void command_errorReply() {
        try (RespConnection connection = connectReplying("-WRONGTYPE not a string\r\n")) {
            assertThatThrownBy(() -> connection.command("GET", "k"))
                    .isInstanceOf(RespErrorException.class)
                    .hasMessage("WRONGTYPE not a string");
        }
    }

    @Test
    void command_errorInsideArrayIsReturned() {
        try (RespConnection connection = connectReplying("*2\r\n+OK\r\n-ERR no\r\n")) {
            assertThat((List<?>) connection.command("EXEC"))
                    .satisfiesExactly(
                            first -> assertThat(first).isEqualTo("OK"),
                            second -> assertThat(second).isInstanceOf(RespErrorException.class));
        }
    }

    @Test
    void command_queuesPushThatArrivesFirst() {
        try (RespConnection connection = connectReplying(">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n:7\r\n")) {
            assertThat(connection.command("GET", "k")).isEqualTo(7L);
            assertThat(connection.nextMessage(Duration.ofMillis(1)))
                    .isEqualTo(List.of("invalidate", List.of("k")));
        }
    }

    @Test
    void nextMessage_nullWhenNoneArrives() {
        try (RespConnection connection = connectReplying("")) {
            assertThat(connection.nextMessage(Duration.ofMillis(50))).isNull();
        }
    }

    @Test
    void command_serverClosed() {
        try (RespConnection connection = connectReplying(null)) {
            assertThatThrownBy(() -> connection.command("PING")).isInstanceOf(UncheckedIOException.class);
        }
    }

    /**
     * Accepts one connection and answers it with {@code reply} at once ({@code null} closes it
     * instead); {@link #request} completes with all the client sent once the client closes.
     */
    private RespConnection connectReplying(String reply) {
        request = CompletableFuture.supplyAsync(() -> {
            try (Socket socket = server.accept()) {
                if (reply == null) {
                    return "";
                }
                socket.getOutputStream().write(reply.getBytes(UTF_8));
                socket.getOutputStream().flush();
                return new String(socket.getInputStream().readAllBytes(), UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return RespConnection.open(server.getInetAddress().getHostAddress(), server.getLocalPort());
    }
}
