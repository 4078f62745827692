package io.cachet.testkit.redis;

import io.cachet.testkit.internal.ChildProcesses;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real {@code redis-server} process on 127.0.0.1 for tests, with no persistence.
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
 * <p>Thread-safe; {@link #start()}, {@link #stop()}, {@link #kill()} and {@link #close()} are
 * serialised and block until the process is up or gone.
 */
public final class RedisServer implements AutoCloseable {
    /**
     * The system property that picks the binary for {@link RedisBinary#AUTO}: {@code auto}
     * (default), {@code path}, {@code embedded} or the path of a {@code redis-server} executable.
     */
    public static final String BINARY_PROPERTY = "cachet.redis.binary";

    private static final Logger LOG = LoggerFactory.getLogger(RedisServer.class);
    private static final String HOST = "127.0.0.1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration PING_TIMEOUT = Duration.ofMillis(500);
    private static final int PORT_ATTEMPTS = 3;
    private static final int LOG_TAIL_BYTES = 4096;

    private final Path executable;
    private final Path directory;
    private final Path logFile;
    private final Object lock = new Object();
    private volatile @Nullable Process process; // written under lock
    private volatile int port; // 0 until the first start; written under lock
    private volatile boolean closed; // written under lock

    private RedisServer(Path executable) {
        this.executable = executable;
        try {
            this.directory = Files.createTempDirectory("cachet-redis");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for Redis", e);
        }
        this.logFile = directory.resolve("redis.log");
    }

    /**
     * Creates a stopped server whose binary {@link RedisBinary#AUTO} picks.
     *
     * @return the server, not started yet
     */
    public static RedisServer create() {
        return create(RedisBinary.AUTO);
    }

    /**
     * Creates a stopped server that runs the given kind of binary.
     *
     * @param binary which executable to run
     * @return the server, not started yet
     * @throws IllegalStateException when that binary is not available here
     */
    public static RedisServer create(RedisBinary binary) {
        return new RedisServer(RedisExecutables.resolve(requireNonNull(binary, "binary")));
    }

    /**
     * Creates a stopped server that runs the given {@code redis-server} executable.
     *
     * @param executable the path of a {@code redis-server} executable
     * @return the server, not started yet
     */
    public static RedisServer create(Path executable) {
        requireNonNull(executable, "executable");
        if (!Files.isExecutable(executable)) {
            throw new IllegalArgumentException("executable must be an executable file, was " + executable);
        }
        return new RedisServer(executable);
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
        synchronized (lock) {
            checkOpen();
            if (isRunning()) {
                throw new IllegalStateException("Redis is already running on " + address());
            }
            Process exited = process;
            if (exited != null) {
                forget(exited); // it exited by itself, e.g. after SHUTDOWN
            }
            if (port != 0) {
                launch(port);
                return this;
            }
            for (int attempt = 1; ; attempt++) {
                int candidate = freePort();
                try {
                    launch(candidate);
                    port = candidate;
                    return this;
                } catch (PortTakenException e) {
                    // Another process grabbed the port between our probe and Redis's bind.
                    if (attempt == PORT_ATTEMPTS) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                    LOG.debug("port {} was taken, trying another", candidate);
                }
            }
        }
    }

    /** Stops the server gracefully (SIGTERM) and waits for it to exit; a no-op when stopped. */
    public void stop() {
        terminate(false);
    }

    /** Kills the server (SIGKILL) and waits for it to exit; a no-op when stopped. */
    public void kill() {
        terminate(true);
    }

    /**
     * Tells whether the server process is alive.
     *
     * @return {@code true} while the process this object started is alive
     */
    public boolean isRunning() {
        Process current = process;
        return current != null && current.isAlive();
    }

    /**
     * Returns the host the server binds, always {@code 127.0.0.1}.
     *
     * @return {@code "127.0.0.1"}
     */
    public String host() {
        return HOST;
    }

    /**
     * Returns the server's port, fixed by the first {@link #start()}.
     *
     * @return the TCP port
     * @throws IllegalStateException before the first start
     */
    public int port() {
        int current = port;
        if (current == 0) {
            throw new IllegalStateException("Redis has not been started yet");
        }
        return current;
    }

    /**
     * Returns {@code host:port}, e.g. {@code "127.0.0.1:6390"}.
     *
     * @return the server's address
     */
    public String address() {
        return HOST + ":" + port();
    }

    /**
     * Returns the server's URI, e.g. {@code "redis://127.0.0.1:6390"}.
     *
     * @return the URI Redis clients accept
     */
    public String uri() {
        return "redis://" + address();
    }

    /**
     * Returns the {@code redis-server} executable this server runs.
     *
     * @return the executable's path
     */
    public Path executable() {
        return executable;
    }

    /**
     * Returns the server's working directory, which holds {@code redis.log}.
     *
     * @return the directory, deleted by {@link #close()}
     */
    public Path directory() {
        return directory;
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
        return RespConnection.open(HOST, port());
    }

    /** Stops the server and deletes its directory; idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            terminate(false);
            closed = true;
            deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        int current = port;
        return "RedisServer[" + (current == 0 ? "not started" : address())
                + (isRunning() ? ", running" : ", stopped") + ", " + executable + "]";
    }

    private void launch(int candidatePort) {
        List<String> command = List.of(executable.toString(),
                "--port", Integer.toString(candidatePort),
                "--bind", HOST,
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", directory.toString(),
                "--logfile", "");
        long logOffset = logSize();
        long startNanos = System.nanoTime();
        Process started;
        try {
            started = new ProcessBuilder(command)
                    .directory(directory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + executable, e);
        }
        ChildProcesses.add(started);
        process = started;
        awaitPing(started, candidatePort, logOffset);
        LOG.info("Redis on {}:{} ready in {} ms (pid {}, {})", HOST, candidatePort,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), started.pid(), executable);
    }

    private void awaitPing(Process started, int candidatePort, long logOffset) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() - deadline < 0) {
            if (!started.isAlive()) {
                forget(started);
                String log = logTail(logOffset);
                String message = "Redis exited with code " + started.exitValue() + " while starting on port "
                        + candidatePort + "; its log:\n" + log;
                if (log.contains("Address already in use")) {
                    throw new PortTakenException(message);
                }
                throw new IllegalStateException(message);
            }
            try (RespConnection connection = RespConnection.open(HOST, candidatePort, PING_TIMEOUT)) {
                if ("PONG".equals(connection.command("PING"))) {
                    return;
                }
            } catch (UncheckedIOException | RespErrorException e) {
                last = e; // not listening yet, or still loading
            }
            try {
                // Doubles as the pause between probes and as exit detection.
                started.waitFor(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                destroy(started, true);
                throw new IllegalStateException("interrupted while waiting for Redis", e);
            }
        }
        destroy(started, true);
        IllegalStateException failure = new IllegalStateException("Redis did not answer PING on port "
                + candidatePort + " within " + START_TIMEOUT + "; its log:\n" + logTail(logOffset));
        if (last != null) {
            failure.addSuppressed(last);
        }
        throw failure;
    }

    private void terminate(boolean forcibly) {
        synchronized (lock) {
            Process current = process;
            if (current == null) {
                return;
            }
            destroy(current, forcibly);
            LOG.info("Redis on {} {} (exit code {})", address(), forcibly ? "killed" : "stopped",
                    current.exitValue());
        }
    }

    private void destroy(Process current, boolean forcibly) {
        try {
            ChildProcesses.stop(current, forcibly, STOP_TIMEOUT, "Redis");
        } finally {
            if (process == current) {
                process = null;
            }
        }
    }

    private void forget(Process current) {
        ChildProcesses.remove(current);
        if (process == current) {
            process = null;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("RedisServer is closed");
        }
    }

    private long logSize() {
        try {
            return Files.exists(logFile) ? Files.size(logFile) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private String logTail(long fromOffset) {
        try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
            long start = Math.max(fromOffset, file.length() - LOG_TAIL_BYTES);
            byte[] bytes = new byte[(int) (file.length() - start)];
            file.seek(start);
            file.readFully(bytes);
            return new String(bytes, UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on " + HOST, e);
        }
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    LOG.debug("cannot delete {}", path, e);
                }
            });
        } catch (IOException e) {
            LOG.debug("cannot delete {}", root, e);
        }
    }

    /** Redis could not bind the port it was given. */
    private static final class PortTakenException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PortTakenException(String message) {
            super(message);
        }
    }
}
