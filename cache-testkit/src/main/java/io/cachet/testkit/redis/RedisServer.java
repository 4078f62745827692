package io.cachet.testkit.redis;

import io.cachet.servers.RedisBinary;
import io.cachet.servers.RedisProcess;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * A real Redis server for tests, with no persistence: a {@code redis-server} process on 127.0.0.1
 * (a {@link RedisProcess}), or, when a {@link RedisServerExtension} runs in
 * {@linkplain io.cachet.testkit.ServerMode#TESTCONTAINERS Testcontainers mode}, a Redis container;
 * plus plain connections to it.
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.create().start()) {
 *     redis.command("SET", "k", "v");             // a plain connection of its own
 *     RedisOptions options = ... redis.uri() ...;  // "redis://127.0.0.1:<port>"
 * }
 * }</pre>
 *
 * <p>The first {@link #start()} picks a free port; later starts (after {@link #stop()} or
 * {@link #kill()}) reuse it, so clients configured with {@link #uri()} reconnect to the
 * restarted server. The server writes its log to {@code redis.log} in {@link #directory()},
 * which {@link #close()} deletes. Only the process this object started is ever signalled.
 *
 * <p>A container starts once: {@link #stop()}, {@link #kill()}, a restart, {@link #executable()}
 * and {@link #directory()} need a process, and skip the calling test (a failed JUnit assumption)
 * with a message saying so.
 *
 * <p>Thread-safe; {@link #start()}, {@link #stop()}, {@link #kill()} and {@link #close()} are
 * serialised and block until the server is up or gone.
 */
public final class RedisServer implements AutoCloseable {
    /**
     * The system property that picks the binary for {@link RedisBinary#AUTO}: {@code auto}
     * (default), {@code path}, {@code embedded} or the path of a {@code redis-server} executable.
     */
    public static final String BINARY_PROPERTY = RedisBinary.PROPERTY;

    private final RedisInstance instance;

    RedisServer(RedisProcess process) {
        this.instance = new ProcessRedis(process);
    }

    private RedisServer(RedisInstance instance) {
        this.instance = instance;
    }

    /**
     * Creates a stopped server that runs the given image in a container; needs
     * {@code org.testcontainers:testcontainers} on the class path and a Docker engine to start.
     */
    static RedisServer container(String image) {
        return new RedisServer(new ContainerRedis(image));
    }

    /**
     * Creates a stopped server whose binary {@link RedisBinary#AUTO} picks.
     *
     * @return the server, not started yet
     */
    public static RedisServer create() {
        return new RedisServer(RedisProcess.create());
    }

    /**
     * Creates a stopped server that runs the given kind of binary.
     *
     * @param binary which executable to run
     * @return the server, not started yet
     * @throws IllegalStateException when that binary is not available here
     */
    public static RedisServer create(RedisBinary binary) {
        return new RedisServer(RedisProcess.create(binary));
    }

    /**
     * Creates a stopped server that runs the given {@code redis-server} executable.
     *
     * @param executable the path of a {@code redis-server} executable
     * @return the server, not started yet
     */
    public static RedisServer create(Path executable) {
        return new RedisServer(RedisProcess.create(executable));
    }

    /**
     * Starts the server and waits until it answers {@code PING}; the first start picks a free
     * port, later ones reuse it.
     *
     * @return this server
     * @throws IllegalStateException when it is already running, closed, or does not come up in
     *     time (the message carries the server's log)
     */
    public RedisServer start() {
        instance.start();
        return this;
    }

    /**
     * Stops the server gracefully (SIGTERM) and waits for it to exit; a no-op when stopped.
     *
     * @throws org.opentest4j.TestAbortedException for a container, skipping the calling test
     */
    public void stop() {
        instance.stop();
    }

    /**
     * Kills the server (SIGKILL) and waits for it to exit; a no-op when stopped.
     *
     * @throws org.opentest4j.TestAbortedException for a container, skipping the calling test
     */
    public void kill() {
        instance.kill();
    }

    /**
     * Tells whether the server is running.
     *
     * @return {@code true} while the process or container this object started is alive
     */
    public boolean isRunning() {
        return instance.isRunning();
    }

    /**
     * Returns the host the server listens on: {@code 127.0.0.1} for a process; the Docker host
     * for a container ({@code 127.0.0.1} for a local engine).
     *
     * @return the host, e.g. {@code "127.0.0.1"}
     */
    public String host() {
        return instance.host();
    }

    /**
     * Returns the server's port, fixed by the first {@link #start()}.
     *
     * @return the port
     * @throws IllegalStateException before the first start
     */
    public int port() {
        return instance.port();
    }

    /**
     * Returns {@code host:port}, e.g. {@code "127.0.0.1:6390"}.
     *
     * @return the server's address
     */
    public String address() {
        return instance.address();
    }

    /**
     * Returns the server's URI, e.g. {@code "redis://127.0.0.1:6390"}.
     *
     * @return the URI Redis clients accept
     */
    public String uri() {
        return instance.uri();
    }

    /**
     * Returns the {@code redis-server} executable this server runs.
     *
     * @return the executable's path
     * @throws org.opentest4j.TestAbortedException for a container, skipping the calling test
     */
    public Path executable() {
        return instance.executable();
    }

    /**
     * Returns the server's working directory, which holds {@code redis.log}.
     *
     * @return the directory, deleted by {@link #close()}
     * @throws org.opentest4j.TestAbortedException for a container, skipping the calling test
     */
    public Path directory() {
        return instance.directory();
    }

    /**
     * Sends one command on a fresh connection and returns the reply, as
     * {@link RespConnection#command(String...)} maps it.
     *
     * @param args the command and its arguments, e.g. {@code "GET", "k"}
     * @return the reply
     * @throws RespErrorException when the server answers with an error
     * @throws UncheckedIOException when the server cannot be reached
     */
    public @Nullable Object command(String... args) {
        try (RespConnection connection = connect()) {
            return connection.command(args);
        }
    }

    /**
     * Opens a new plain connection to the server; the caller closes it.
     *
     * @return the open connection
     * @throws UncheckedIOException when the server cannot be reached
     */
    public RespConnection connect() {
        return RespConnection.open(instance.host(), instance.port());
    }

    /** Stops the server and deletes its directory (removes the container); idempotent. */
    @Override
    public void close() {
        instance.close();
    }

    @Override
    public String toString() {
        return instance.toString();
    }
}
