package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An array reply of bulk strings ({@code MGET}) too large to build at once, encoded a chunk at a
 * time as the connection's socket takes it ({@link ClientHandler} writes the next chunk only while
 * the channel is writable). It holds the values themselves, arrays the cache already holds or
 * that the read returned, so a reply naming one large value many times costs the proxy one chunk
 * in flight, not the size of the reply. Confined to the connection's event loop; holds no
 * reference-counted memory.
 */
final class ArrayReplyStream {

  /** Bytes an element's header ({@code $<len>\r\n} or {@code $-1\r\n}) takes at most. */
  private static final int HEADER_ROOM = 24;

  private final List<byte @Nullable []> values;
  private boolean started;
  /** The element being written. */
  private int element;
  /** Bytes of the current element's value written; -1 before its header. */
  private int offset = -1;

  /** @param values the elements in reply order; null for nil; never mutated while streamed */
  ArrayReplyStream(List<byte @Nullable []> values) {
    this.values = values;
  }

  /** Whether every byte of the reply was handed out. */
  boolean isDone() {
    return started && element == values.size();
  }

  /**
   * Returns the next chunk of the reply, at most {@code chunkBytes} long (or twice {@value
   * #HEADER_ROOM}, if more), or null once it was all handed out.
   */
  @Nullable ByteBuf next(ByteBufAllocator alloc, int chunkBytes) {
    if (isDone()) {
      return null;
    }
    int limit = Math.max(HEADER_ROOM * 2, chunkBytes);
    ByteBuf chunk = alloc.ioBuffer(limit);
    if (!started) {
      chunk.writeByte('*').writeCharSequence(Integer.toString(values.size()), US_ASCII);
      chunk.writeByte('\r').writeByte('\n');
      started = true;
    }
    while (element < values.size()) {
      byte[] value = values.get(element);
      if (offset < 0) {
        if (limit - chunk.writerIndex() < HEADER_ROOM) {
          break;
        }
        if (value == null) {
          chunk.writeByte('$').writeByte('-').writeByte('1').writeByte('\r').writeByte('\n');
          element++;
          continue;
        }
        chunk.writeByte('$').writeCharSequence(Integer.toString(value.length), US_ASCII);
        chunk.writeByte('\r').writeByte('\n');
        offset = 0;
      }
      // The value, then its CRLF as two more bytes of it.
      byte[] bytes = requireNonNull(value);
      int end = bytes.length + 2;
      int n = Math.min(end - offset, limit - chunk.writerIndex());
      if (n <= 0) {
        break;
      }
      int fromValue = Math.max(0, Math.min(n, bytes.length - offset));
      if (fromValue > 0) {
        chunk.writeBytes(bytes, offset, fromValue);
      }
      for (int i = offset + fromValue; i < offset + n; i++) {
        chunk.writeByte(i == bytes.length ? '\r' : '\n');
      }
      offset += n;
      if (offset == end) {
        element++;
        offset = -1;
      }
    }
    return chunk;
  }
}
