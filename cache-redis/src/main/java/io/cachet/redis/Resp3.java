package io.cachet.redis;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The few RESP3 frames the invalidation channel exchanges with Redis: commands out, replies and
 * push messages in. Not a general client; Redisson does the data path.
 *
 * <p>Decoded forms: simple strings and verbatim strings as {@link String}, errors as {@link Error},
 * integers as {@link Long}, bulk strings as {@code byte[]}, arrays, sets and maps as
 * {@link List} (a map as alternating keys and values), pushes as {@link Push}, nulls as
 * {@code null}. Attributes are skipped.
 */
final class Resp3 {

  /**
   * Longest bulk string accepted. Invalidation pushes carry key names, never values; a longer
   * element is treated as a protocol error (the connection is dropped and the near cache flushed).
   */
  static final int MAX_BULK = 16 * 1024 * 1024;
  /** Most elements in one aggregate. */
  static final int MAX_AGGREGATE = 1_000_000;
  /** Deepest nesting of aggregates accepted; an invalidation push is two deep. */
  static final int MAX_DEPTH = 16;
  /**
   * Most bytes one frame may hold, its elements counted with {@value #ELEMENT_BYTES} bytes each for
   * the heap they take: 64 MiB. The per-element bounds alone would let one frame hold a million
   * 16 MiB strings.
   */
  static final long MAX_FRAME_BYTES = 64L * 1024 * 1024;
  /** Heap an element of an aggregate is counted with beyond its content: a list slot and an array. */
  static final int ELEMENT_BYTES = 32;

  /** What is left of one frame's {@link #MAX_FRAME_BYTES} and {@link #MAX_AGGREGATE} elements. */
  private static final class Budget {
    long bytes = MAX_FRAME_BYTES;
    long elements = MAX_AGGREGATE;

    void take(long count, long size) throws IOException {
      elements -= count;
      bytes -= size;
      if (elements < 0 || bytes < 0) {
        throw new IOException("frame larger than " + MAX_AGGREGATE + " elements or " + MAX_FRAME_BYTES + " bytes");
      }
    }
  }

  private Resp3() {}

  /** A server error reply such as {@code -ERR unknown command}. */
  record Error(String message) {}

  /** An out-of-band push message such as {@code >2 invalidate [keys]}. */
  record Push(List<@Nullable Object> parts) {
    String kind() {
      Object first = parts.isEmpty() ? null : parts.get(0);
      return first instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(first);
    }
  }

  /** Writes {@code args} as one command. */
  static void write(OutputStream out, Object... args) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    buf.write(('*' + Integer.toString(args.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    for (Object arg : args) {
      byte[] bytes = arg instanceof byte[] b ? b : String.valueOf(arg).getBytes(StandardCharsets.UTF_8);
      buf.write(('$' + Integer.toString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      buf.write(bytes);
      buf.write('\r');
      buf.write('\n');
    }
    buf.writeTo(out);
    out.flush();
  }

  /**
   * Reads one frame, skipping attributes.
   *
   * <p>A read timeout surfaces as {@link SocketTimeoutException} only while waiting for the first
   * byte of the frame, when the stream is still in step and the caller may treat it as idle. Once
   * a byte of the frame was consumed, a timeout would leave the rest to be misread as the next
   * frame, so it is thrown as a plain {@link IOException}: the connection must be dropped.
   */
  static @Nullable Object read(InputStream in) throws IOException {
    int type = in.read(); // a timeout here is at a frame boundary
    if (type < 0) {
      throw new EOFException("connection closed by Redis");
    }
    try {
      return frame(in, type, 0, new Budget());
    } catch (SocketTimeoutException e) {
      throw new IOException("Redis stopped sending in the middle of a frame", e);
    }
  }

  private static @Nullable Object frame(InputStream in, int firstType, int depth, Budget budget) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new IOException("aggregates nested deeper than " + MAX_DEPTH);
    }
    int type = firstType;
    while (true) {
      switch (type) {
        case '+':
          return line(in, budget);
        case '-':
          return new Error(line(in, budget));
        case ':':
          return parseLong(line(in, budget));
        case '$':
          return bulk(in, parseLength(line(in, budget), MAX_BULK), budget);
        case '=':
          {
            byte[] verbatim = bulk(in, parseLength(line(in, budget), MAX_BULK), budget);
            if (verbatim != null && verbatim.length < 4) {
              throw new IOException("verbatim string shorter than its format prefix");
            }
            return verbatim == null ? null : new String(verbatim, 4, verbatim.length - 4, StandardCharsets.UTF_8);
          }
        case '!':
          {
            byte[] blob = bulk(in, parseLength(line(in, budget), MAX_BULK), budget);
            return new Error(blob == null ? "" : new String(blob, StandardCharsets.UTF_8));
          }
        case '*':
        case '~':
          return aggregate(in, parseLength(line(in, budget), MAX_AGGREGATE), depth, budget);
        case '%':
          {
            int pairs = parseLength(line(in, budget), MAX_AGGREGATE / 2);
            return pairs < 0 ? null : aggregate(in, pairs * 2, depth, budget);
          }
        case '>':
          {
            List<@Nullable Object> parts = aggregate(in, parseLength(line(in, budget), MAX_AGGREGATE), depth, budget);
            return new Push(parts == null ? List.of() : parts);
          }
        case '|':
          {
            int pairs = parseLength(line(in, budget), MAX_AGGREGATE / 2);
            aggregate(in, Math.max(0, pairs) * 2, depth, budget); // attribute: metadata we do not use
            type = next(in); // the frame it annotates follows
            continue;
          }
        case '_':
          line(in, budget);
          return null;
        case '#':
          return line(in, budget).equals("t");
        case ',':
        case '(':
          return line(in, budget);
        default:
          throw new IOException("unexpected RESP type byte 0x" + Integer.toHexString(type));
      }
    }
  }

  private static int next(InputStream in) throws IOException {
    int type = in.read();
    if (type < 0) {
      throw new EOFException("connection closed by Redis");
    }
    return type;
  }

  private static @Nullable List<@Nullable Object> aggregate(InputStream in, int count, int depth, Budget budget)
      throws IOException {
    if (count < 0) {
      return null;
    }
    budget.take(count, (long) count * ELEMENT_BYTES); // before the list is sized by it
    List<@Nullable Object> items = new ArrayList<>(Math.min(count, 1024));
    for (int i = 0; i < count; i++) {
      items.add(frame(in, next(in), depth + 1, budget));
    }
    return items;
  }

  private static byte @Nullable [] bulk(InputStream in, int length, Budget budget) throws IOException {
    if (length < 0) {
      return null;
    }
    budget.take(0, length); // before it is allocated
    byte[] bytes = in.readNBytes(length);
    if (bytes.length < length) {
      throw new EOFException("connection closed by Redis");
    }
    if (in.read() != '\r' || in.read() != '\n') {
      throw new IOException("bulk string not terminated by CRLF");
    }
    return bytes;
  }

  private static String line(InputStream in, Budget budget) throws IOException {
    String line = line(in);
    budget.take(0, line.length());
    return line;
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed by Redis");
      }
      if (c == '\r') {
        if (in.read() != '\n') {
          throw new IOException("line not terminated by CRLF");
        }
        return sb.toString();
      }
      if (sb.length() > 64 * 1024) {
        throw new IOException("line longer than 64 KiB");
      }
      sb.append((char) c);
    }
  }

  private static long parseLong(String text) throws IOException {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IOException("not an integer: " + text, e);
    }
  }

  private static int parseLength(String text, int max) throws IOException {
    long length = parseLong(text);
    if (length < -1 || length > max) {
      throw new IOException("length out of range: " + length);
    }
    return (int) length;
  }
}
