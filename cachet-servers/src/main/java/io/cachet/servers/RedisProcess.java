package io.cachet.servers;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code redis-server} child process on 127.0.0.1, with no persistence.
 *
 * <pre>{@code
 * try (RedisProcess redis = RedisProcess.create(RedisBinary.EMBEDDED).start()) {
 *     String address = redis.address();   // "127.0.0.1:<port>"
 *     ...
 * }
 * }</pre>
 *
 * <p>The first {@link #start()} picks a free port; later starts (after {@link #stop()} or
 * {@link #kill()}) reuse it, so clients configured with {@link #uri()} reconnect to the
 * restarted server. The server writes its log to {@code redis.log} in {@link #directory()},
 * which {@link #close()} deletes. Only the process this object started is ever signalled, and a
 * shutdown hook kills it if this JVM exits first.
 *
 * <p>Thread-safe; {@link #start()}, {@link #stop()}, {@link #kill()} and {@link #close()} are
 * serialised and block until the process is up or gone.
 */
public final class RedisProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisProcess.class);
    private static final String HOST = "127.0.0.1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration PING_TIMEOUT = Duration.ofMillis(500);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);
    private static final int PIPELINE_BATCH = 1000;
    private static final int PORT_ATTEMPTS = 3;
    private static final int LOG_TAIL_BYTES = 4096;

    private final Path executable;
    private final Path directory;
    private final Path logFile;
    private final Path configFile;
    private final List<String> configLines;
    private final List<String> arguments;
    private final Object lock = new Object();
    private final ProcessSlot process = new ProcessSlot("Redis", STOP_TIMEOUT);
    private volatile int port; // 0 until the first start; written under lock
    private volatile boolean closed; // written under lock

    private RedisProcess(Path executable, int port, List<String> configLines, List<String> arguments) {
        this.executable = executable;
        this.directory = ServerFiles.createDirectory("cachet-redis", "Redis");
        this.logFile = directory.resolve("redis.log");
        this.configFile = directory.resolve("redis.conf");
        this.configLines = List.copyOf(configLines);
        this.arguments = List.copyOf(arguments);
        this.port = port;
    }

    /**
     * Creates a stopped server whose binary {@link RedisBinary#AUTO} picks.
     *
     * @return the server, not started yet
     */
    public static RedisProcess create() {
        return create(RedisBinary.AUTO);
    }

    /**
     * Creates a stopped server that runs the given kind of binary.
     *
     * @param binary which executable to run
     * @return the server, not started yet
     * @throws IllegalStateException when that binary is not available here
     */
    public static RedisProcess create(RedisBinary binary) {
        return new RedisProcess(requireNonNull(binary, "binary").executable(), 0, List.of(), List.of());
    }

    /**
     * Creates a stopped server that runs the given {@code redis-server} executable.
     *
     * @param executable the path of a {@code redis-server} executable
     * @return the server, not started yet
     */
    public static RedisProcess create(Path executable) {
        requireNonNull(executable, "executable");
        if (!Files.isExecutable(executable)) {
            throw new IllegalArgumentException("executable must be an executable file, was " + executable);
        }
        return new RedisProcess(executable, 0, List.of(), List.of());
    }

    /**
     * Creates a stopped server with a configuration of its own, for Cluster nodes and Sentinels.
     *
     * <pre>{@code
     * RedisProcess sentinel = RedisProcess.create(RedisBinary.AUTO.executable(), 0,
     *     List.of("sentinel monitor primary 127.0.0.1 6390 2"), List.of("--sentinel"));
     * }</pre>
     *
     * @param executable the path of a {@code redis-server} executable
     * @param port the port to bind, or 0 for a free one picked at the first start
     * @param configLines written to {@code redis.conf} in {@link #directory()} before the first
     *     start and passed as the configuration file (the server may rewrite it, as a Sentinel or a
     *     Cluster node does, and a restart keeps what it wrote); empty for none
     * @param arguments appended after the standard ones, e.g. {@code "--cluster-enabled", "yes"}
     * @return the server, not started yet
     */
    public static RedisProcess create(Path executable, int port, List<String> configLines, List<String> arguments) {
        requireNonNull(executable, "executable");
        if (!Files.isExecutable(executable)) {
            throw new IllegalArgumentException("executable must be an executable file, was " + executable);
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
        }
        return new RedisProcess(executable, port, requireNonNull(configLines, "configLines"),
                requireNonNull(arguments, "arguments"));
    }

    /**
     * Starts the server and waits until it answers {@code PING}; the first start picks a free
     * port, later ones reuse it.
     *
     * @return this server
     * @throws IllegalStateException when it is already running, closed, or does not come up in
     *     time (the message carries the server's log)
     */
    public RedisProcess start() {
        synchronized (lock) {
            checkOpen();
            if (isRunning()) {
                throw new IllegalStateException("Redis is already running on " + address());
            }
            process.forgetExited();
            if (port != 0) {
                launch(port);
                return this;
            }
            for (int attempt = 1; ; attempt++) {
                int candidate = Ports.free(HOST, 1)[0];
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
        return process.isRunning();
    }

    /**
     * Returns the server's process id.
     *
     * @return the pid of the running {@code redis-server}
     * @throws IllegalStateException when it is not running
     */
    public long pid() {
        return process.pid();
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
     * @return the port
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
     * Sends {@code commands} on one connection, pipelined in batches, and checks every reply. For
     * loading data: each command must have a one-line reply (a status such as {@code SET}'s
     * {@code OK}, or an integer as from {@code DEL} or {@code EXPIRE}).
     *
     * @param commands each a command and its arguments, e.g. {@code List.of("SET", "k", "v")}
     * @throws IllegalStateException when Redis answers one of them with an error or a multi-line reply
     * @throws UncheckedIOException when the server cannot be reached
     */
    public void pipeline(Iterator<? extends List<String>> commands) {
        requireNonNull(commands, "commands");
        try (Socket socket = open(port(), COMMAND_TIMEOUT)) {
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            while (commands.hasNext()) {
                int sent = 0;
                for (; sent < PIPELINE_BATCH && commands.hasNext(); sent++) {
                    out.write(encode(commands.next()));
                }
                out.flush();
                for (int i = 0; i < sent; i++) {
                    String reply = readLine(in);
                    if (!reply.startsWith("+") && !reply.startsWith(":")) {
                        throw new IllegalStateException("Redis on " + address() + " answered " + reply
                                + (reply.startsWith("-") ? "" : " (pipeline takes commands with one-line replies)"));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send commands to Redis on " + address(), e);
        }
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
            ServerFiles.deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        int current = port;
        return "RedisProcess[" + (current == 0 ? "not started" : address())
                + (isRunning() ? ", running" : ", stopped") + ", " + executable + "]";
    }

    private void launch(int candidatePort) {
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        if (!configLines.isEmpty()) {
            if (!Files.exists(configFile)) {
                try {
                    Files.write(configFile, configLines, UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + configFile, e);
                }
            }
            command.add(configFile.toString());
        }
        command.addAll(List.of(
                "--port", Integer.toString(candidatePort),
                "--bind", HOST,
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", directory.toString(),
                "--logfile", ""));
        command.addAll(arguments);
        long logOffset = ServerFiles.size(logFile);
        long startNanos = System.nanoTime();
        Process started;
        try {
            started = process.start(command, directory, logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + executable, e);
        }
        awaitPing(started, candidatePort, logOffset);
        LOG.info("Redis on {}:{} ready in {} ms (pid {}, {})", HOST, candidatePort,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), started.pid(), executable);
    }

    private void awaitPing(Process started, int candidatePort, long logOffset) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() - deadline < 0) {
            if (!started.isAlive()) {
                process.forget(started);
                String log = ServerFiles.tail(logFile, logOffset, LOG_TAIL_BYTES);
                String message = "Redis exited with code " + started.exitValue() + " while starting on port "
                        + candidatePort + "; its log:\n" + log;
                if (log.contains("Address already in use")) {
                    throw new PortTakenException(message);
                }
                throw new IllegalStateException(message);
            }
            try (Socket socket = open(candidatePort, PING_TIMEOUT)) {
                socket.getOutputStream().write(encode(List.of("PING")));
                String reply = readLine(socket.getInputStream());
                if (reply.equals("+PONG")) {
                    // Another server on the port (ours then exits with "Address already in use")
                    // answers PING too: only the process just started is ready.
                    long answering = processId(socket);
                    if (answering == started.pid()) {
                        return;
                    }
                    last = new IOException("a Redis of another process (pid " + answering + ") answers on port "
                            + candidatePort);
                } else {
                    last = new IOException("PING answered " + reply); // e.g. -LOADING
                }
            } catch (IOException e) {
                last = e; // not listening yet
            }
            try {
                // Doubles as the pause between probes and as exit detection.
                started.waitFor(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroy(started, true);
                throw new IllegalStateException("interrupted while waiting for Redis", e);
            }
        }
        process.destroy(started, true);
        IllegalStateException failure = new IllegalStateException("Redis did not answer PING on port "
                + candidatePort + " within " + START_TIMEOUT + "; its log:\n"
                + ServerFiles.tail(logFile, logOffset, LOG_TAIL_BYTES));
        if (last != null) {
            failure.addSuppressed(last);
        }
        throw failure;
    }

    private void terminate(boolean forcibly) {
        synchronized (lock) {
            Integer exitCode = process.stop(forcibly);
            if (exitCode != null) {
                LOG.info("Redis on {} {} (exit code {})", address(), forcibly ? "killed" : "stopped", exitCode);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("RedisProcess is closed");
        }
    }

    private static Socket open(int port, Duration timeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(HOST, port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** A RESP array of bulk strings: how a client sends a command. */
    private static byte[] encode(List<String> args) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.writeBytes(("*" + args.size() + "\r\n").getBytes(UTF_8));
        for (String arg : args) {
            byte[] bytes = arg.getBytes(UTF_8);
            frame.writeBytes(("$" + bytes.length + "\r\n").getBytes(UTF_8));
            frame.writeBytes(bytes);
            frame.writeBytes("\r\n".getBytes(UTF_8));
        }
        return frame.toByteArray();
    }

    /** The {@code process_id} the Redis at the other end of {@code socket} reports. */
    private static long processId(Socket socket) throws IOException {
        socket.getOutputStream().write(encode(List.of("INFO", "server")));
        InputStream in = socket.getInputStream();
        String header = readLine(in);
        if (!header.startsWith("$")) {
            throw new IOException("INFO answered " + header);
        }
        byte[] body = in.readNBytes(Integer.parseInt(header.substring(1)));
        for (String line : new String(body, UTF_8).split("\r\n")) {
            if (line.startsWith("process_id:")) {
                return Long.parseLong(line.substring("process_id:".length()).strip());
            }
        }
        throw new IOException("INFO server without a process_id");
    }

    /** Reads one reply line without its CRLF. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("Redis closed the connection");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(UTF_8);
    }

    /** Redis could not bind the port it was given; thrown as is when the port is fixed (a restart). */
    private static final class PortTakenException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTakenException(String message) {
            super(message);
        }
    }
}
