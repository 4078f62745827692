package io.cachet.examples.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ByteProcessor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Decodes client requests of the Redis protocol (RESP2) into {@link Command}s: multibulk arrays
 * of bulk strings ({@code *2\r\n$3\r\nGET\r\n$1\r\nk\r\n}) and inline commands ({@code PING\r\n},
 * as typed into telnet). Anything else becomes a {@link ProtocolError}, emitted in order after
 * the commands decoded before it; after one, every further byte is discarded, since the stream
 * can no longer be framed.
 *
 * <p>Limits, so a client can make the proxy neither allocate nor wait without bound:
 * <ul>
 *   <li>Nothing is allocated by a length a client claims. A bulk string is copied out only when
 *       all its bytes have arrived; until then they wait in the cumulation buffer, which grows by
 *       the bytes actually received. A claimed array length only sizes a counter.
 *   <li>A request (header lines, lengths and arguments together, each argument counted with the
 *       {@value #ARG_OVERHEAD} bytes of heap its array and list slot take, so a flood of empty
 *       arguments is bounded too) may be at most {@code maxRequestBytes}; a larger claimed or
 *       received request is a protocol error.
 *       So is an array of more than {@value #MAX_ARGS} elements and an inline command longer
 *       than {@value #MAX_INLINE_BYTES} bytes.
 *   <li>A number line ({@code *N}, {@code $N}) must end within {@value #MAX_NUMBER_LINE}
 *       bytes, hold only digits, and fit the limits; negative lengths are errors.
 *   <li>Requests are flat: an array element must be a bulk string, so a nested array (of any
 *       depth) is rejected at its first nested {@code *} in O(1) memory.
 *   <li>Non-printable bytes in an inline command (binary garbage) are a protocol error.
 * </ul>
 *
 * <p>The decoder is incremental: it keeps the arguments completed so far and never re-scans
 * them, so a large request arriving in many reads costs O(its size). After each read it tells
 * the {@link RequestDeadline} whether a request is incomplete. One instance per connection.
 */
final class RespDecoder extends ByteToMessageDecoder {

  /** A request: the command name and its arguments, as sent. */
  record Command(List<byte[]> args) {}

  /** A framing error; the connection is answered {@code -ERR Protocol error: <message>} and closed. */
  record ProtocolError(String message) {}

  static final int MAX_INLINE_BYTES = 64 * 1024;
  static final int MAX_ARGS = 1024 * 1024;
  static final int MAX_NUMBER_LINE = 32;

  /** Heap bytes an argument costs beyond its content: its array's header and its list slot. */
  static final int ARG_OVERHEAD = 24;
  private final int maxRequestBytes;
  private final @Nullable RequestDeadline deadline;
  private final @Nullable Consumer<Object> sink;
  private final BooleanSupplier accepting;

  // Event-loop confined state of the request being decoded.
  private int remainingArgs; // > 0 while inside a multibulk
  private long bulkLength = -1; // >= 0 once the $N line of the next argument was read
  private long requestBytes;
  private @Nullable List<byte[]> args;
  private boolean failed;
  private int inlineScanned;

  RespDecoder(int maxRequestBytes, @Nullable RequestDeadline deadline) {
    this(maxRequestBytes, deadline, null);
  }

  /**
   * A decoder that hands each message straight to {@code sink} (the next handler's
   * {@code channelRead}, on the same event loop) instead of collecting it for the pipeline: one
   * call per request instead of a list and a pipeline hop. Order is the same.
   */
  RespDecoder(int maxRequestBytes, @Nullable RequestDeadline deadline, @Nullable Consumer<Object> sink) {
    this(maxRequestBytes, deadline, sink, () -> true);
  }

  /**
   * As above, decoding a further request only while {@code accepting} says the handler takes
   * one (see {@link ClientHandler#acceptingRequests()}); the bytes of the others stay in the
   * cumulation buffer, undecoded, until the handler has the pipeline fire a read again.
   */
  RespDecoder(int maxRequestBytes, @Nullable RequestDeadline deadline, @Nullable Consumer<Object> sink,
      BooleanSupplier accepting) {
    this.maxRequestBytes = maxRequestBytes;
    this.deadline = deadline;
    this.sink = sink;
    this.accepting = accepting;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    boolean held = false;
    boolean completed = false;
    try {
      // Every complete request in the buffer, in one call: cheaper than one call per request.
      while (in.isReadable()) {
        if (remainingArgs == 0 && !accepting.getAsBoolean()) {
          held = true; // the handler holds all it may: keep the rest, undecoded, for later
          break;
        }
        int before = in.readerIndex();
        Object message = decodeOne(in);
        if (message != null) {
          completed = true;
          emit(message, out);
        } else if (in.readerIndex() == before) {
          break; // the rest of a request has not arrived yet
        }
      }
    } catch (ProtocolException e) {
      fail(in);
      emit(new ProtocolError(e.getMessage()), out);
    }
    if (deadline != null) {
      if (completed) {
        deadline.update(ctx, false); // a request ended: whatever follows it started in this read
      }
      // Held-back requests are complete or the client's next ones: we stopped reading, not it.
      deadline.update(ctx, !failed && !held && (remainingArgs > 0 || in.isReadable()));
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (sink == null) {
      super.channelReadComplete(ctx);
      return;
    }
    // Not super's: having fired no message itself, it would call ctx.read() while auto-read is
    // off, undoing the handler's back-pressure. Messages did go out, through the sink.
    discardSomeReadBytes();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ChannelInputShutdownEvent) {
      // Not super's, which decodes what it can now and drops the rest: requests held back by the
      // handler's back-pressure are still to be answered (ClientHandler#inputShutdown).
      ctx.fireUserEventTriggered(event);
      return;
    }
    if (event instanceof RequestDeadline.TimedOut) {
      // The handler answers and closes; nothing after this can be framed.
      failed = true;
      args = null;
    }
    super.userEventTriggered(ctx, event);
  }

  /** Whether a request has started and is not complete yet; for tests. */
  boolean incomplete() {
    return remainingArgs > 0 || (internalBuffer().isReadable() && !failed);
  }

  private void emit(Object message, List<Object> out) {
    if (sink != null) {
      sink.accept(message);
    } else {
      out.add(message);
    }
  }

  private void fail(ByteBuf in) {
    failed = true;
    args = null;
    inlineScanned = 0;
    in.skipBytes(in.readableBytes());
  }

  /** Decodes at most one request; returns null when more bytes are needed. */
  private @Nullable Object decodeOne(ByteBuf in) {
    if (remainingArgs == 0) {
      if (!in.isReadable()) {
        return null;
      }
      Object get = decodeGet(in);
      if (get != null) {
        return get;
      }
      byte first = in.getByte(in.readerIndex());
      if (first != '*') {
        return isRespTypeByte(first) ? fail("expected '*', got '" + printable(first) + "'") : decodeInline(in);
      }
      int lineEnd = findLineEnd(in, MAX_NUMBER_LINE, "invalid multibulk length");
      if (lineEnd < 0) {
        return null;
      }
      long count = parseNumber(in, in.readerIndex() + 1, lineEnd, "invalid multibulk length");
      if (count > MAX_ARGS) {
        throw new ProtocolException("invalid multibulk length");
      }
      int lineBytes = lineEnd + 2 - in.readerIndex();
      in.readerIndex(lineEnd + 2);
      if (count == 0) {
        return null; // "*0" is an empty request: ignored, as Redis does
      }
      remainingArgs = (int) count;
      requestBytes = lineBytes;
      bulkLength = -1;
      args = new ArrayList<>((int) Math.min(count, 8)); // never sized by the claim
    }
    while (remainingArgs > 0) {
      if (bulkLength < 0) {
        if (!in.isReadable()) {
          return null;
        }
        byte type = in.getByte(in.readerIndex());
        if (type != '$') {
          throw new ProtocolException("expected '$', got '" + printable(type) + "'");
        }
        int lineEnd = findLineEnd(in, MAX_NUMBER_LINE, "invalid bulk length");
        if (lineEnd < 0) {
          return null;
        }
        long length = parseNumber(in, in.readerIndex() + 1, lineEnd, "invalid bulk length");
        long lineBytes = lineEnd + 2 - in.readerIndex();
        if (length > maxRequestBytes || requestBytes + lineBytes + ARG_OVERHEAD + length + 2 > maxRequestBytes) {
          throw new ProtocolException(
              "invalid bulk length (the request would exceed max-request-bytes " + maxRequestBytes + ")");
        }
        in.readerIndex(lineEnd + 2);
        requestBytes += lineBytes + ARG_OVERHEAD;
        bulkLength = length;
      }
      // Wait, without allocating, until the whole argument and its CRLF have arrived.
      if (in.readableBytes() < bulkLength + 2) {
        return null;
      }
      int end = in.readerIndex() + (int) bulkLength;
      if (in.getByte(end) != '\r' || in.getByte(end + 1) != '\n') {
        throw new ProtocolException("expected CRLF after a bulk string of " + bulkLength + " bytes");
      }
      List<byte[]> current = args;
      if (current == null) {
        throw new IllegalStateException("no request in progress");
      }
      byte[] arg = current.isEmpty() ? knownCommand(in, (int) bulkLength) : null;
      if (arg == null) {
        arg = new byte[(int) bulkLength];
        in.getBytes(in.readerIndex(), arg);
      }
      in.skipBytes((int) bulkLength + 2);
      requestBytes += bulkLength + 2;
      current.add(arg);
      bulkLength = -1;
      remainingArgs--;
    }
    List<byte[]> done = args;
    args = null;
    requestBytes = 0;
    return done == null ? null : new Command(done);
  }

  /** {@code *2\r\n$3\r\n} as a big-endian long. */
  private static final long GET_HEADER = 0x2A320D0A24330D0AL;
  /** {@code GET\r} as a big-endian int, compared after clearing the lower-case bit of the letters. */
  private static final int GET_NAME = 0x4745540D;
  private static final int UPPER_CASE_MASK = 0xDFDFDFFF;
  private static final short LF_DOLLAR = 0x0A24;
  private static final short CRLF = 0x0D0A;

  /**
   * The fast path for the most common request, a complete {@code GET key} in canonical
   * multibulk form, read with a few wide loads. Returns null (consuming nothing) for anything
   * else, including an incomplete GET, which the general path below then handles and validates.
   */
  private @Nullable Object decodeGet(ByteBuf in) {
    int start = in.readerIndex();
    int end = in.writerIndex();
    if (end - start < 18
        || in.getLong(start) != GET_HEADER
        || (in.getInt(start + 8) & UPPER_CASE_MASK) != GET_NAME
        || in.getShort(start + 12) != LF_DOLLAR) {
      return null;
    }
    int p = start + 14;
    int length = 0;
    int digits = 0;
    while (p < end && digits < 10) {
      byte b = in.getByte(p);
      if (b < '0' || b > '9') {
        break;
      }
      length = length * 10 + (b - '0');
      p++;
      digits++;
    }
    if (digits == 0 || digits >= 10 || p + 2 > end || in.getShort(p) != CRLF) {
      return null;
    }
    int keyStart = p + 2;
    long requestEnd = (long) keyStart + length + 2;
    // Counted as the general path counts it (two arguments), so that whether a GET near the limit
    // is taken does not depend on how its bytes were split across reads; over it, that path says so.
    if (requestEnd - start + 2L * ARG_OVERHEAD > maxRequestBytes || requestEnd > end
        || in.getShort(keyStart + length) != CRLF) {
      return null;
    }
    byte[] key = new byte[length];
    in.getBytes(keyStart, key);
    in.readerIndex((int) requestEnd);
    return new Command(List.of(RespHandler.GET, key));
  }

  private @Nullable Object decodeInline(ByteBuf in) {
    // Bytes before readerIndex + inlineScanned were already searched and checked on an earlier
    // read, so a client trickling an inline command costs O(its length) in total.
    int limit = Math.min(MAX_INLINE_BYTES, maxRequestBytes);
    int scanFrom = in.readerIndex() + inlineScanned;
    int scanTo = in.readerIndex() + Math.min(in.readableBytes(), limit);
    int newline = scanFrom < scanTo ? in.indexOf(scanFrom, scanTo, (byte) '\n') : -1;
    if (newline < 0) {
      if (in.readableBytes() >= limit) {
        throw new ProtocolException("too big inline request");
      }
      // Reject garbage as soon as it is seen rather than waiting for a newline; a trailing CR
      // may be the start of the CRLF.
      int checkTo = in.writerIndex();
      if (checkTo > scanFrom && in.getByte(checkTo - 1) == '\r') {
        checkTo--;
      }
      checkPrintable(in, scanFrom, checkTo);
      inlineScanned = checkTo - in.readerIndex();
      return null;
    }
    inlineScanned = 0;
    int end = newline;
    if (end > in.readerIndex() && in.getByte(end - 1) == '\r') {
      end--;
    }
    checkPrintable(in, in.readerIndex(), end);
    List<byte[]> parts = splitInline(in, in.readerIndex(), end, maxRequestBytes);
    in.readerIndex(newline + 1);
    return parts.isEmpty() ? null : new Command(parts); // an empty line is ignored, as Redis does
  }

  /**
   * Splits an inline command into arguments as Redis does ({@code sdssplitargs}): separated by
   * spaces and tabs; {@code "..."} holds spaces and the escapes {@code \xHH}, {@code \n},
   * {@code \r}, {@code \t}, {@code \b}, {@code \a} and a backslash before any other
   * character; {@code '...'} holds spaces and {@code \'}. A closing quote must be followed by a
   * space or the end; an unclosed one is a protocol error ("unbalanced quotes"). The arguments,
   * each counted with {@value #ARG_OVERHEAD} bytes as in an array request, may take at most
   * {@code maxRequestBytes}: a line of many one-byte arguments would otherwise take several
   * times its own length.
   */
  static List<byte[]> splitInline(ByteBuf in, int from, int end, long maxRequestBytes) {
    List<byte[]> parts = new ArrayList<>(4);
    long requestBytes = 0;
    int i = from;
    while (true) {
      while (i < end && isSpace(in.getByte(i))) {
        i++;
      }
      if (i >= end) {
        return parts;
      }
      java.io.ByteArrayOutputStream part = new java.io.ByteArrayOutputStream();
      boolean inDouble = false;
      boolean inSingle = false;
      boolean done = false;
      while (!done) {
        if (i >= end) {
          if (inDouble || inSingle) {
            throw new ProtocolException("unbalanced quotes in request");
          }
          break;
        }
        byte b = in.getByte(i);
        if (inDouble) {
          if (b == '\\' && i + 3 < end && in.getByte(i + 1) == 'x'
              && hexValue(in.getByte(i + 2)) >= 0 && hexValue(in.getByte(i + 3)) >= 0) {
            part.write(hexValue(in.getByte(i + 2)) * 16 + hexValue(in.getByte(i + 3)));
            i += 3;
          } else if (b == '\\' && i + 1 < end) {
            i++;
            byte c = in.getByte(i);
            part.write(switch (c) {
              case 'n' -> '\n';
              case 'r' -> '\r';
              case 't' -> '\t';
              case 'b' -> '\b';
              case 'a' -> 7;
              default -> c;
            });
          } else if (b == '"') {
            if (i + 1 < end && !isSpace(in.getByte(i + 1))) {
              throw new ProtocolException("unbalanced quotes in request"); // closing quote must be followed by a space
            }
            done = true;
          } else {
            part.write(b);
          }
        } else if (inSingle) {
          if (b == '\\' && i + 1 < end && in.getByte(i + 1) == '\'') {
            i++;
            part.write('\'');
          } else if (b == '\'') {
            if (i + 1 < end && !isSpace(in.getByte(i + 1))) {
              throw new ProtocolException("unbalanced quotes in request");
            }
            done = true;
          } else {
            part.write(b);
          }
        } else if (isSpace(b)) {
          done = true;
        } else if (b == '"') {
          inDouble = true;
        } else if (b == '\'') {
          inSingle = true;
        } else {
          part.write(b);
        }
        i++;
      }
      requestBytes += part.size() + ARG_OVERHEAD;
      if (requestBytes > maxRequestBytes) {
        throw new ProtocolException("too big inline request (its arguments would exceed max-request-bytes "
            + maxRequestBytes + ")");
      }
      parts.add(part.toByteArray());
    }
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t';
  }

  private static int hexValue(byte b) {
    return Character.digit(b, 16);
  }

  private static void checkPrintable(ByteBuf in, int from, int to) {
    if (from >= to) {
      return;
    }
    int bad = in.forEachByte(from, to - from, b -> b >= 0x20 && b != 0x7f || b == '\t' || b < 0);
    if (bad >= 0) {
      throw new ProtocolException("invalid inline request: byte 0x"
          + String.format("%02x", in.getByte(bad) & 0xff) + " at offset " + (bad - in.readerIndex()));
    }
  }

  /** Returns the index of the CR of the CRLF ending the line, or -1 if it has not arrived. */
  private static int findLineEnd(ByteBuf in, int maxLine, String error) {
    int available = Math.min(in.readableBytes(), maxLine);
    int cr = in.forEachByte(in.readerIndex(), available, ByteProcessor.FIND_CR);
    if (cr < 0) {
      if (in.readableBytes() >= maxLine) {
        throw new ProtocolException(error);
      }
      return -1;
    }
    if (cr + 1 >= in.writerIndex()) {
      return -1; // the LF has not arrived yet
    }
    if (in.getByte(cr + 1) != '\n') {
      throw new ProtocolException(error);
    }
    return cr;
  }

  private static long parseNumber(ByteBuf in, int from, int to, String error) {
    if (from >= to || to - from > 18) {
      throw new ProtocolException(error);
    }
    long value = 0;
    for (int i = from; i < to; i++) {
      byte b = in.getByte(i);
      if (b < '0' || b > '9') {
        throw new ProtocolException(error); // includes '-': negative lengths are not requests
      }
      value = value * 10 + (b - '0');
    }
    return value;
  }

  private static final byte[][] KNOWN_COMMANDS = {
    RespHandler.GET, RespHandler.MGET, RespHandler.PING, RespHandler.ECHO, RespHandler.QUIT, RespHandler.COMMAND
  };

  /** The shared name array when the command at the reader index is one the proxy knows (any case). */
  private static byte @Nullable [] knownCommand(ByteBuf in, int length) {
    for (byte[] name : KNOWN_COMMANDS) {
      if (name.length == length && equalsIgnoreCase(in, in.readerIndex(), name)) {
        return name;
      }
    }
    return null;
  }

  private static boolean equalsIgnoreCase(ByteBuf in, int from, byte[] upper) {
    for (int i = 0; i < upper.length; i++) {
      int b = in.getByte(from + i);
      if (b >= 'a' && b <= 'z') {
        b -= 'a' - 'A';
      }
      if (b != upper[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isRespTypeByte(byte b) {
    return switch (b) {
      case '$', '+', '-', ':', '_', ',', '#', '(', '!', '=', '%', '~', '|', '>' -> true;
      default -> false;
    };
  }

  private static Object fail(String message) {
    throw new ProtocolException(message);
  }

  static String printable(byte b) {
    return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
  }

  /** A framing error, turned into a {@link ProtocolError} message. */
  private static final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProtocolException(String message) {
      super(message, null, false, false);
    }
  }
}
