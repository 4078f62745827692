package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** RESP2 reply encoding and argument helpers. Stateless. */
final class Resp {

  private static final byte[] CRLF = {'\r', '\n'};
  /** Values at least this long are sent from the cached array itself instead of being copied. */
  static final int WRAP_THRESHOLD = 16 * 1024;

  private Resp() {}

  /** {@code $len\r\n<bytes>\r\n}, or the nil bulk {@code $-1\r\n} for null. */
  static ByteBuf bulk(ByteBufAllocator alloc, byte @Nullable [] value) {
    if (value == null) {
      return alloc.ioBuffer(5).writeBytes(NIL);
    }
    if (value.length >= WRAP_THRESHOLD) {
      // Cached arrays are never mutated, so the reply may reference them directly.
      ByteBuf header = alloc.ioBuffer(16);
      header.writeByte('$');
      writeDecimal(header, value.length);
      header.writeBytes(CRLF);
      return Unpooled.wrappedBuffer(header, Unpooled.wrappedBuffer(value), Unpooled.wrappedBuffer(CRLF));
    }
    ByteBuf buf = alloc.ioBuffer(value.length + 16);
    writeBulk(buf, value);
    return buf;
  }

  /**
   * Array replies (MGET) larger than this, 64 KiB, are not built as one buffer but streamed as the
   * socket takes them ({@link ArrayReplyStream}): an MGET naming a large value many times would
   * otherwise multiply its size in the proxy's memory.
   */
  static final long MAX_BUILT_ARRAY_REPLY_BYTES = 64L * 1024;

  /** An upper bound of {@link #bulkArray}'s size in bytes. */
  static long bulkArraySize(List<byte @Nullable []> values) {
    long size = 16;
    for (byte[] v : values) {
      size += v == null ? 5 : v.length + 16L;
    }
    return size;
  }

  /** An array of bulk strings, nil for null elements; at most {@link #MAX_BUILT_ARRAY_REPLY_BYTES}. */
  static ByteBuf bulkArray(ByteBufAllocator alloc, List<byte @Nullable []> values) {
    long size = bulkArraySize(values);
    if (size > MAX_BUILT_ARRAY_REPLY_BYTES) {
      throw new IllegalArgumentException("an array reply of " + size + " bytes is streamed, not built");
    }
    ByteBuf buf = alloc.ioBuffer((int) size);
    buf.writeByte('*');
    writeDecimal(buf, values.size());
    buf.writeBytes(CRLF);
    for (byte[] v : values) {
      if (v == null) {
        buf.writeBytes(NIL);
      } else {
        writeBulk(buf, v);
      }
    }
    return buf;
  }

  /** {@code +text\r\n}; {@code text} must hold no CR or LF. */
  static ByteBuf simple(ByteBufAllocator alloc, String text) {
    ByteBuf buf = alloc.ioBuffer(text.length() + 3);
    buf.writeByte('+').writeCharSequence(text, US_ASCII);
    return buf.writeBytes(CRLF);
  }

  /** {@code -message\r\n}, with any character that could break the framing replaced. */
  static ByteBuf error(ByteBufAllocator alloc, String message) {
    String safe = sanitize(message, 512);
    ByteBuf buf = alloc.ioBuffer(safe.length() + 3);
    buf.writeByte('-').writeCharSequence(safe, StandardCharsets.UTF_8);
    return buf.writeBytes(CRLF);
  }

  /** {@code :n\r\n}. */
  static ByteBuf integer(ByteBufAllocator alloc, long n) {
    ByteBuf buf = alloc.ioBuffer(24);
    buf.writeByte(':');
    writeDecimal(buf, n);
    return buf.writeBytes(CRLF);
  }

  /** Error text quoting client input the way Redis does: printable ASCII only, bounded. */
  static String quote(byte[] arg, int max) {
    StringBuilder sb = new StringBuilder(Math.min(arg.length, max) + 2);
    for (int i = 0; i < arg.length && sb.length() < max; i++) {
      int b = arg[i] & 0xff;
      if (b >= 0x20 && b < 0x7f && b != '\'') {
        sb.append((char) b);
      } else if (b == '\'') {
        sb.append("\\'");
      } else {
        sb.append(String.format("\\x%02x", b));
      }
    }
    if (arg.length > 0 && sb.length() >= max) {
      sb.append("...");
    }
    return sb.toString();
  }

  /** Whether {@code arg} equals the upper-case ASCII {@code name}, ignoring case. */
  static boolean is(byte[] arg, byte[] name) {
    if (arg == name) {
      return true; // the decoder's shared array for a command it knows
    }
    if (arg.length != name.length) {
      return false;
    }
    for (int i = 0; i < arg.length; i++) {
      int b = arg[i];
      if (b >= 'a' && b <= 'z') {
        b -= 'a' - 'A';
      }
      if (b != name[i]) {
        return false;
      }
    }
    return true;
  }

  private static final byte[] NIL = "$-1\r\n".getBytes(US_ASCII);

  /** Writes {@code $len\r\n<bytes>\r\n}, or {@code $-1\r\n} for null, into {@code buf}. */
  static void writeBulk(ByteBuf buf, byte @Nullable [] value) {
    if (value == null) {
      buf.writeBytes(NIL);
      return;
    }
    buf.writeByte('$');
    writeDecimal(buf, value.length);
    buf.writeBytes(CRLF);
    buf.writeBytes(value);
    buf.writeBytes(CRLF);
  }

  private static void writeDecimal(ByteBuf buf, long n) {
    if (n >= 0 && n < 10) {
      buf.writeByte('0' + (int) n);
      return;
    }
    buf.writeCharSequence(Long.toString(n), US_ASCII);
  }

  private static String sanitize(String text, int max) {
    StringBuilder sb = new StringBuilder(Math.min(text.length(), max));
    for (int i = 0; i < text.length() && sb.length() < max; i++) {
      char c = text.charAt(i);
      sb.append(c == '\r' || c == '\n' || c < 0x20 ? ' ' : c);
    }
    return sb.toString();
  }
}
