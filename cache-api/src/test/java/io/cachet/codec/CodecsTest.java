package io.cachet.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class CodecsTest {

  @Test
  void utf8_roundTripsAnyString() {
    String text = "héllo, wörld ✓ 𝄞";
    assertThat(Codecs.utf8().decode(Codecs.utf8().encode(text))).isEqualTo(text);
  }

  @Test
  void utf8_malformedBytes_throwCodecException() {
    byte[] invalid = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF};
    assertThatThrownBy(() -> Codecs.utf8().decode(invalid))
        .isInstanceOf(CodecException.class)
        .hasMessage("not valid UTF-8 (3 bytes)")
        .hasCauseInstanceOf(java.nio.charset.CharacterCodingException.class);
  }

  @Test
  void utf8_unpairedSurrogate_rejectedNamingItsIndex_pairsAccepted() {
    assertThatThrownBy(() -> Codecs.utf8().encode("\uD800"))
        .isInstanceOf(CodecException.class)
        .hasMessage("cannot encode as UTF-8: unpaired surrogate U+D800 at index 0 of a string of length 1");
    assertThatThrownBy(() -> Codecs.utf8().encode("ab\uDC00c"))
        .isInstanceOf(CodecException.class)
        .hasMessageContaining("U+DC00 at index 2");
    assertThatThrownBy(() -> Codecs.utf8().encode("x\uD83D"))
        .isInstanceOf(CodecException.class)
        .hasMessageContaining("at index 1");
    // Before this check, "\uD800" and "?" were the same bytes.
    assertThat(Codecs.utf8().encode("\uD83D\uDE00")).hasSize(4);
  }

  @Test
  void utf8_overlongForms_rejected() {
    assertThatThrownBy(() -> Codecs.utf8().decode(new byte[] {(byte) 0xC0, (byte) 0xAF}))
        .isInstanceOf(CodecException.class);
    assertThatThrownBy(() -> Codecs.utf8().decode(new byte[] {'a', (byte) 0xE0, (byte) 0x80, (byte) 0xAF, 'b'}))
        .isInstanceOf(CodecException.class);
  }

  @Test
  void bytes_isIdentity() {
    byte[] raw = {0, 1, (byte) 0xFF};
    assertThat(Codecs.bytes().decode(Codecs.bytes().encode(raw))).isSameAs(raw);
  }

  @Test
  void javaSerialization_roundTripsAndRejectsGarbage() {
    Codec<Serializable> codec = Codecs.javaSerialization(getClass().getClassLoader());
    ArrayList<String> list = new ArrayList<>(List.of("a", "b"));
    assertThat(codec.decode(codec.encode(list))).isEqualTo(list);
    assertThatThrownBy(() -> codec.decode(new byte[] {1, 2, 3}))
        .isInstanceOf(CodecException.class)
        .hasMessage("cannot deserialize 3 bytes");
  }
}
