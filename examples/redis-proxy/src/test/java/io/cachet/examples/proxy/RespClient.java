package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A plain-socket RESP client that can also send arbitrary bytes, for talking to the proxy (and to
 * Redis) the way any client would, including badly. Replies: simple strings as {@code "+text"},
 * errors as {@code "-text"}, integers as {@link Long}, bulk strings as {@code byte[]}, nil as
 * {@code null}, arrays as {@link List}. Not thread-safe.
 */
final class RespClient implements AutoCloseable {

  private static final int TIMEOUT_MILLIS = 10_000;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RespClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  static RespClient open(int port) {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
      socket.setSoTimeout(TIMEOUT_MILLIS);
      return new RespClient(socket);
    } catch (IOException e) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // already failing
      }
      throw new UncheckedIOException("cannot connect to 127.0.0.1:" + port, e);
    }
  }

  /** Encodes a command as a RESP array of bulk strings. */
  static byte[] frame(byte[]... args) {
    ByteArrayOutputStream frame = new ByteArrayOutputStream();
    frame.writeBytes(("*" + args.length + "\r\n").getBytes(ISO_8859_1));
    for (byte[] arg : args) {
      frame.writeBytes(("$" + arg.length + "\r\n").getBytes(ISO_8859_1));
      frame.writeBytes(arg);
      frame.writeBytes(new byte[] {'\r', '\n'});
    }
    return frame.toByteArray();
  }

  static byte[] frame(String... args) {
    byte[][] bytes = new byte[args.length][];
    for (int i = 0; i < args.length; i++) {
      bytes[i] = args[i].getBytes(UTF_8);
    }
    return frame(bytes);
  }

  /** Sends a command and reads its reply. */
  @Nullable Object command(String... args) {
    send(frame(args));
    return read();
  }

  /** Sends a command of raw arguments and reads its reply. */
  @Nullable Object command(byte[]... args) {
    send(frame(args));
    return read();
  }

  /** Sends a command and returns its reply as a UTF-8 string (bulk), or the +/- line. */
  @Nullable String string(String... args) {
    return asString(command(args));
  }

  static @Nullable String asString(@Nullable Object reply) {
    if (reply == null) {
      return null;
    }
    if (reply instanceof byte[] bytes) {
      return new String(bytes, UTF_8);
    }
    return reply.toString();
  }

  void send(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void send(String text) {
    send(text.getBytes(ISO_8859_1));
  }

  /** Reads one reply. */
  @Nullable Object read() {
    try {
      return readReply();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads until the server closes the connection and returns everything read; fails if it is not
   * closed within {@code timeout}.
   */
  String readUntilClosed(Duration timeout) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    long deadline = System.nanoTime() + timeout.toNanos();
    byte[] buf = new byte[8192];
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("connection not closed within " + timeout + "; read so far: "
              + all.toString(ISO_8859_1));
        }
        socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
        int n;
        try {
          n = in.read(buf);
        } catch (SocketTimeoutException e) {
          continue;
        } catch (IOException e) {
          return all.toString(ISO_8859_1) + "<" + e.getMessage() + ">"; // e.g. reset
        }
        if (n < 0) {
          return all.toString(ISO_8859_1);
        }
        all.write(buf, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  boolean isClosed() {
    return socket.isClosed();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  private @Nullable Object readReply() throws IOException {
    int type = in.read();
    if (type < 0) {
      throw new EOFException("the server closed the connection");
    }
    String line = readLine();
    switch (type) {
      case '+':
        return "+" + line;
      case '-':
        return "-" + line;
      case ':':
        return Long.parseLong(line);
      case '$': {
        int length = Integer.parseInt(line);
        if (length < 0) {
          return null;
        }
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length || in.read() != '\r' || in.read() != '\n') {
          throw new EOFException("truncated bulk string");
        }
        return bytes;
      }
      case '*': {
        int count = Integer.parseInt(line);
        if (count < 0) {
          return null;
        }
        List<@Nullable Object> items = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          items.add(readReply());
        }
        return items;
      }
      default:
        throw new IOException("unexpected reply type byte " + type);
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the server closed the connection mid-line");
      }
      if (b == '\r') {
        int lf = in.read();
        if (lf != '\n') {
          throw new IOException("CR without LF");
        }
        return line.toString(UTF_8);
      }
      line.write(b);
    }
  }
}
