package io.cachet.servers;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The parts of {@link RedisProcess} the test kit's {@code RedisServerIT} does not reach. */
@Tag("redis")
final class RedisProcessIT {

    private static RedisProcess redis;

    @BeforeAll
    static void start() {
        redis = RedisProcess.create().start();
    }

    @AfterAll
    static void close() {
        redis.close();
    }

    @Test
    void pipeline_writesEveryCommand_acrossBatches() throws IOException {
        redis.pipeline(IntStream.rangeClosed(1, 2_500)
                .mapToObj(i -> List.of("SET", "key" + i, "value" + i))
                .iterator());

        assertThat(get("key1")).isEqualTo("$6");
        assertThat(get("key2500")).isEqualTo("$9");
        assertThat(get("key2501")).isEqualTo("$-1");
    }

    @Test
    void pipeline_integerReplies() {
        redis.pipeline(List.of(List.of("SET", "gone", "v"), List.of("DEL", "gone")).iterator());
    }

    @Test
    void pipeline_errorReply_throwsWithRedisMessage() {
        assertThatThrownBy(() -> redis.pipeline(List.of(List.of("NO-SUCH-COMMAND")).iterator()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("-ERR unknown command");
    }

    @Test
    void pipeline_multiLineReply_isRejected() {
        assertThatThrownBy(() -> redis.pipeline(List.of(List.of("GET", "key1")).iterator()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("one-line replies");
    }

    @Test
    void pid_isTheServersProcess_andKillEndsIt() throws IOException {
        long pid = redis.pid();
        ProcessHandle handle = ProcessHandle.of(pid).orElseThrow();
        // The file the process runs, links resolved: Debian's redis-server is a link to redis-check-rdb.
        assertThat(Path.of(handle.info().command().orElseThrow()).toRealPath())
                .isEqualTo(redis.executable().toRealPath());

        redis.kill();

        assertThat(handle.isAlive()).isFalse();
        assertThatThrownBy(redis::pid).isInstanceOf(IllegalStateException.class);
        redis.start();
        assertThat(redis.pid()).isNotEqualTo(pid);
    }

    @Test
    void restartOnAPortAnotherServerTook_failsInsteadOfTakingItsPongForReady() throws Exception {
        try (RedisProcess own = RedisProcess.create().start()) {
            int port = own.port();
            own.stop();
            try (ServerSocket impostor = new ServerSocket()) {
                impostor.bind(new InetSocketAddress(own.host(), port));
                Thread answering = new Thread(() -> answerAsAnotherRedis(impostor), "impostor");
                answering.setDaemon(true);
                answering.start();

                assertThatThrownBy(own::start)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("Address already in use");
                assertThat(own.isRunning()).isFalse();
            }
        }
    }

    @Test
    void jvmKilledWithoutItsShutdownHooks_leavesNoServerBehind() throws Exception {
        Process jvm = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), OrphanProbe.class.getName())
                .redirectErrorStream(true)
                .start();
        ProcessHandle server = null;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), UTF_8));
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.startsWith("redis-pid "));
            assertThat(line).as("the probe's Redis pid").isNotNull();
            server = ProcessHandle.of(Long.parseLong(line.substring("redis-pid ".length()))).orElseThrow();

            jvm.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook runs

            // The watchdog polls once a second.
            server.onExit().get(15, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(server.isAlive()).isFalse();
        } finally {
            jvm.destroyForcibly();
            if (server != null) {
                server.destroyForcibly(); // the probe's server, should the watchdog have failed
            }
        }
    }

    /** Answers PING with PONG and INFO with another process's id, on every connection, until closed. */
    private static void answerAsAnotherRedis(ServerSocket server) {
        while (!server.isClosed()) {
            try (Socket client = server.accept()) {
                client.setSoTimeout(2_000);
                InputStream in = client.getInputStream();
                OutputStream out = client.getOutputStream();
                byte[] buffer = new byte[1024];
                for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                    String command = new String(buffer, 0, n, UTF_8);
                    if (command.contains("PING")) {
                        out.write("+PONG\r\n".getBytes(UTF_8));
                    } else if (command.contains("INFO")) {
                        out.write("$14\r\nprocess_id:1\r\n\r\n".getBytes(UTF_8));
                    }
                }
            } catch (IOException e) {
                // The probe hung up, or the socket closed at the end of the test.
            }
        }
    }

    /** The first line of the reply to {@code GET key}: {@code $<length>} or {@code $-1}. */
    private static String get(String key) throws IOException {
        try (Socket socket = new Socket(redis.host(), redis.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("*2\r\n$3\r\nGET\r\n$" + key.length() + "\r\n" + key + "\r\n").getBytes(UTF_8));
            out.flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8)).readLine();
        }
    }
}
