package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A streamed array reply is byte for byte the reply built at once, however it is chunked. */
final class ArrayReplyStreamTest {

  private final ByteBufAllocator alloc = new UnpooledByteBufAllocator(false);

  @Test
  void chunksOfEverySize_concatenate_toTheBuiltReply() {
    List<byte[]> values = new ArrayList<>();
    for (int length : new int[] {0, 1, 2, 3, 47, 48, 49, 100, 1000}) {
      byte[] value = new byte[length];
      Arrays.fill(value, (byte) ('a' + length % 26));
      values.add(value);
      values.add(null);
    }
    ByteBuf built = Resp.bulkArray(alloc, values);
    String expected = built.toString(ISO_8859_1);
    built.release();

    for (int chunkBytes = 48; chunkBytes <= 1100; chunkBytes++) {
      ArrayReplyStream stream = new ArrayReplyStream(values);
      StringBuilder streamed = new StringBuilder();
      int chunks = 0;
      for (ByteBuf chunk = stream.next(alloc, chunkBytes); chunk != null; chunk = stream.next(alloc, chunkBytes)) {
        assertThat(chunk.readableBytes()).as("chunk of %d", chunkBytes).isBetween(1, chunkBytes);
        streamed.append(chunk.toString(ISO_8859_1));
        chunk.release();
        chunks++;
      }
      assertThat(stream.isDone()).isTrue();
      assertThat(streamed.toString()).as("chunks of %d bytes", chunkBytes).isEqualTo(expected);
      assertThat(chunks).as("chunks of %d bytes", chunkBytes).isGreaterThanOrEqualTo(expected.length() / chunkBytes);
    }
  }

  @Test
  void anEmptyOrAllNilArray_isOneChunk() {
    ArrayReplyStream stream = new ArrayReplyStream(Arrays.asList(null, null));
    ByteBuf chunk = stream.next(alloc, 64);
    assertThat(chunk.toString(ISO_8859_1)).isEqualTo("*2\r\n$-1\r\n$-1\r\n");
    chunk.release();
    assertThat(stream.next(alloc, 64)).isNull();
  }
}
