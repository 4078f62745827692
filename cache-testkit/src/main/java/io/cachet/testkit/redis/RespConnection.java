package io.cachet.testkit.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A tiny blocking RESP2/RESP3 client on one plain socket, for tests that need a connection of
 * their own (tracking, {@code CLIENT KILL}, writes from "another client").
 *
 * <p>Replies map to Java values: simple and bulk strings to {@link String} (UTF-8), integers to
 * {@link Long}, arrays and pushes to {@link List}, RESP3 maps to {@link Map}, sets to
 * {@link Set}, booleans to {@link Boolean}, doubles to {@link Double}, big numbers to
 * {@link BigInteger}, nil and RESP3 null to {@code null}. An error reply is thrown as
 * {@link RespErrorException}; inside an array it is returned as that exception.
 *
 * <p>Out-of-band messages (RESP3 pushes such as tracking invalidations, which may arrive before
 * a command's reply) are queued and read with {@link #nextMessage(Duration)}. On a RESP2
 * connection in subscribe mode every frame is such a message, so read them there with
 * {@code nextMessage} too.
 *
 * <p>Thread-safe: calls are serialised. A read that times out in the middle of a frame leaves
 * the connection unusable; close it.
 */
public final class RespConnection implements AutoCloseable {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final int timeoutMillis;
    private final Deque<List<@Nullable Object>> messages = new ArrayDeque<>();

    private RespConnection(Socket socket, int timeoutMillis) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = new BufferedOutputStream(socket.getOutputStream());
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * Opens a connection with a five-second connect and read timeout.
     *
     * @param host the server's host
     * @param port the server's port
     * @return the open connection
     * @throws UncheckedIOException when the server cannot be reached
     */
    public static RespConnection open(String host, int port) {
        return open(host, port, DEFAULT_TIMEOUT);
    }

    /**
     * Opens a connection with the given connect and read timeout.
     *
     * @param host the server's host
     * @param port the server's port
     * @param timeout the connect timeout and the longest wait for a reply
     * @return the open connection
     * @throws UncheckedIOException when the server cannot be reached
     */
    public static RespConnection open(String host, int port, Duration timeout) {
        requireNonNull(host, "host");
        int millis = toMillis(timeout);
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            return new RespConnection(socket, millis);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to Redis at " + host + ":" + port, e);
        }
    }

    /**
     * Sends one command and returns its reply, queueing any out-of-band message that arrives
     * first.
     *
     * @param args the command and its arguments, e.g. {@code "SET", "k", "v"}
     * @return the reply, mapped as the class comment says
     * @throws RespErrorException when the server answers with an error
     * @throws UncheckedIOException on a network error or timeout
     */
    public synchronized @Nullable Object command(String... args) {
        if (args.length == 0) {
            throw new IllegalArgumentException("args must name a command, was empty");
        }
        try {
            write(args);
            while (true) {
                Frame frame = readFrame();
                if (frame.push()) {
                    messages.add(asList(frame.value()));
                } else if (frame.value() instanceof RespErrorException error) {
                    throw new RespErrorException(error.getMessage());
                } else {
                    return frame.value();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Redis command " + args[0] + " failed", e);
        }
    }

    /**
     * Returns the next out-of-band message: a RESP3 push (e.g. {@code [invalidate, [key]]}) or,
     * on a RESP2 subscribed connection, a pub/sub frame such as
     * {@code [message, __redis__:invalidate, [key]]}.
     *
     * @param timeout how long to wait when none is queued
     * @return the message, or {@code null} when none arrived in time
     * @throws UncheckedIOException on a network error
     */
    public synchronized @Nullable List<@Nullable Object> nextMessage(Duration timeout) {
        List<@Nullable Object> queued = messages.poll();
        if (queued != null) {
            return queued;
        }
        try {
            socket.setSoTimeout(toMillis(timeout));
            try {
                Frame frame = readFrame();
                if (frame.value() instanceof RespErrorException error) {
                    throw new RespErrorException(error.getMessage());
                }
                return asList(frame.value());
            } catch (SocketTimeoutException e) {
                return null;
            } finally {
                socket.setSoTimeout(timeoutMillis);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading a Redis message failed", e);
        }
    }

    /** Closes the socket; idempotent. */
    @Override
    public void close() {
        closeQuietly(socket);
    }

    private void write(String[] args) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.writeBytes(("*" + args.length + "\r\n").getBytes(UTF_8));
        for (String arg : args) {
            byte[] bytes = requireNonNull(arg, "arg").getBytes(UTF_8);
            frame.writeBytes(("$" + bytes.length + "\r\n").getBytes(UTF_8));
            frame.writeBytes(bytes);
            frame.writeBytes(new byte[] {'\r', '\n'});
        }
        frame.writeTo(out);
        out.flush();
    }

    private Frame readFrame() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("Redis closed the connection");
        }
        String line = readLine();
        switch (type) {
            case '+':
                return new Frame(line, false);
            case '-':
                return new Frame(new RespErrorException(line), false);
            case ':':
                return new Frame(Long.parseLong(line), false);
            case '$':
            case '=':
            case '!': {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    return new Frame(null, false);
                }
                String text = new String(readExactly(length), UTF_8);
                if (type == '!') {
                    return new Frame(new RespErrorException(text), false);
                }
                // A verbatim string starts with its three-letter format and a colon.
                return new Frame(type == '=' && text.length() >= 4 ? text.substring(4) : text, false);
            }
            case '_':
                return new Frame(null, false);
            case '#':
                return new Frame("t".equals(line), false);
            case ',':
                return new Frame(Double.parseDouble(line.replace("inf", "Infinity")), false);
            case '(':
                return new Frame(new BigInteger(line), false);
            case '*':
            case '>': {
                int count = Integer.parseInt(line);
                if (count < 0) {
                    return new Frame(null, false);
                }
                List<@Nullable Object> items = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    items.add(readFrame().value());
                }
                return new Frame(items, type == '>');
            }
            case '~': {
                int count = Integer.parseInt(line);
                Set<@Nullable Object> items = new LinkedHashSet<>();
                for (int i = 0; i < count; i++) {
                    items.add(readFrame().value());
                }
                return new Frame(items, false);
            }
            case '%': {
                int count = Integer.parseInt(line);
                Map<@Nullable Object, @Nullable Object> entries = new LinkedHashMap<>();
                for (int i = 0; i < count; i++) {
                    Object key = readFrame().value();
                    entries.put(key, readFrame().value());
                }
                return new Frame(entries, false);
            }
            case '|': {
                // Attributes annotate the reply that follows; tests have no use for them.
                int count = Integer.parseInt(line);
                for (int i = 0; i < 2 * count; i++) {
                    readFrame();
                }
                return readFrame();
            }
            default:
                throw new IOException("unexpected RESP type byte '" + (char) type + "'");
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("Redis closed the connection mid-frame");
            }
            if (b == '\r') {
                if (in.read() != '\n') {
                    throw new IOException("malformed RESP line: CR without LF");
                }
                return line.toString(UTF_8);
            }
            line.write(b);
        }
    }

    private byte[] readExactly(int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length || in.read() != '\r' || in.read() != '\n') {
            throw new EOFException("Redis closed the connection mid-frame");
        }
        return bytes;
    }

    @SuppressWarnings("unchecked")
    private static List<@Nullable Object> asList(@Nullable Object value) {
        if (value instanceof List<?> list) {
            return (List<@Nullable Object>) list;
        }
        List<@Nullable Object> single = new ArrayList<>(1);
        single.add(value);
        return single;
    }

    private static int toMillis(Duration timeout) {
        requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
        }
        return (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Nothing to do: the socket is gone either way.
        }
    }

    /** One decoded frame; {@code push} marks a RESP3 out-of-band push. */
    private record Frame(@Nullable Object value, boolean push) {}
}
