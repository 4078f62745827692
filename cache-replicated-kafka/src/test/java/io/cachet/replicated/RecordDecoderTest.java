package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.codec.Codecs;
import java.nio.ByteBuffer;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** The consumer's deserializer: decodes in place, never throws. */
final class RecordDecoderTest {

  private final RecordDecoder<String> strings = new RecordDecoder<>(Codecs.utf8());

  @Test
  void decodesTheBuffersRemainingBytes_whereverTheyLieInItsArray() {
    byte[] fetched = "....key-1....".getBytes(UTF_8);
    ByteBuffer slice = ByteBuffer.wrap(fetched, 4, 5).slice(); // arrayOffset 4, position 0
    assertThat(strings.deserialize("t", new RecordHeaders(), slice)).isEqualTo("key-1");
    ByteBuffer positioned = ByteBuffer.wrap(fetched);
    positioned.position(4).limit(9);
    assertThat(strings.deserialize("t", new RecordHeaders(), positioned)).isEqualTo("key-1");
    assertThat(positioned.position()).isEqualTo(4); // not consumed

    ByteBuffer direct = ByteBuffer.allocateDirect(5).put("key-2".getBytes(UTF_8)).flip();
    assertThat(strings.deserialize("t", new RecordHeaders(), direct)).isEqualTo("key-2");
    assertThat(strings.deserialize("t", "key-3".getBytes(UTF_8))).isEqualTo("key-3");
  }

  @Test
  void byteValues_areCopies_notViewsOfTheFetchBuffer() {
    byte[] fetched = {9, 1, 2, 3, 9};
    Object value = new RecordDecoder<>(Codecs.bytes()).deserialize("t", new RecordHeaders(), ByteBuffer.wrap(fetched, 1, 3));
    fetched[1] = 7; // the consumer reuses its buffers
    assertThat((byte[]) value).containsExactly(1, 2, 3);
  }

  @Test
  void absentBytes_areNull_andBytesTheCodecRefuses_areUnreadable_holdingACopy_withoutThrowing() {
    assertThat(strings.deserialize("t", new RecordHeaders(), (ByteBuffer) null)).isNull();
    assertThat(strings.deserialize("t", (byte[]) null)).isNull();
    byte[] fetched = {9, (byte) 0xC3, 0x28, 9};
    Object sliced = strings.deserialize("t", new RecordHeaders(), ByteBuffer.wrap(fetched, 1, 2));
    fetched[1] = 7; // the consumer reuses its buffers
    assertThat(Unreadable.is(sliced)).isTrue();
    assertThat(bytesOf(sliced)).containsExactly(0xC3, 0x28);
    assertThat(Unreadable.is(strings.deserialize("t", new byte[] {(byte) 0xC3, 0x28}))).isTrue();
    Object json = Unreadable.decode(Codecs.json(Integer.class), "not json".getBytes(UTF_8));
    assertThat(Unreadable.is(json)).isTrue();
    assertThat(json.toString()).startsWith("Unreadable[8 bytes: ");
  }

  @SuppressWarnings({"unchecked", "rawtypes"}) // an Unreadable stands in for a value of any type
  private static byte[] bytesOf(Object value) {
    return Unreadable.encode((io.cachet.codec.Codec) Codecs.utf8(), value);
  }
}
