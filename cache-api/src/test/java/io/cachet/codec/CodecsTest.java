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
  void decodeOfARange_readsOnlyThoseBytes_andNeverReturnsTheCallersArray() {
    byte[] buffer = "xxhéllo✓yy".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int length = buffer.length - 4;
    assertThat(Codecs.utf8().decode(buffer, 2, length)).isEqualTo("héllo✓");
    assertThat(Codecs.utf8().decode("--ascii--".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 2, 5))
        .isEqualTo("ascii");
    assertThat(Codecs.utf8().decode(buffer, 3, 0)).isEmpty();

    byte[] bytes = Codecs.bytes().decode(buffer, 2, 3);
    assertThat(bytes).containsExactly('h', (byte) 0xC3, (byte) 0xA9);
    buffer[2] = 'H'; // the caller reuses its buffer: the decoded value must not change
    assertThat(bytes[0]).isEqualTo((byte) 'h');

    // A codec without its own range decode gets the default: a copy of the range.
    Codec<String> reversing = new Codec<>() {
      @Override
      public byte[] encode(String value) {
        return new StringBuilder(value).reverse().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] whole) {
        return new StringBuilder(new String(whole, java.nio.charset.StandardCharsets.UTF_8)).reverse().toString();
      }

      @Override
      public Class<String> type() {
        return String.class;
      }
    };
    assertThat(reversing.decode("..cba..".getBytes(java.nio.charset.StandardCharsets.UTF_8), 2, 3)).isEqualTo("abc");
  }

  @Test
  void decodeOfARange_outsideTheArray_orMalformed_isRefused() {
    byte[] buffer = {'a', 'b', (byte) 0xC3, (byte) 0x28};
    assertThatThrownBy(() -> Codecs.utf8().decode(buffer, 3, 2)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> Codecs.bytes().decode(buffer, -1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> Codecs.json(String.class).decode(buffer, 0, 5)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> Codecs.utf8().decode(buffer, 1, 3))
        .isInstanceOf(CodecException.class)
        .hasMessage("not valid UTF-8 (3 bytes)");
    assertThat(Codecs.utf8().decode(buffer, 0, 2)).isEqualTo("ab"); // the valid part alone decodes
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

  /** A value class the test loads a second copy of, through a loader of its own. */
  public static final class Isolated implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /**
   * A codec for a JDK type holding the application's objects resolves them through the context
   * class loader it was made under (an application server's, a development tool's restart loader),
   * not through Cachet's.
   */
  @Test
  void javaSerializationOfAJdkType_resolvesItsElementsThroughTheContextClassLoader() throws Exception {
    java.net.URL classes = Isolated.class.getProtectionDomain().getCodeSource().getLocation();
    try (java.net.URLClassLoader own = new java.net.URLClassLoader(new java.net.URL[] {classes}, null)) {
      Object element = own.loadClass(Isolated.class.getName()).getConstructor().newInstance();
      java.util.HashMap<String, Object> map = new java.util.HashMap<>(java.util.Map.of("k", element));
      Thread thread = Thread.currentThread();
      ClassLoader before = thread.getContextClassLoader();
      Codec<java.util.HashMap> codec;
      thread.setContextClassLoader(own);
      try {
        codec = Codecs.javaSerialization(java.util.HashMap.class);
      } finally {
        thread.setContextClassLoader(before);
      }
      @SuppressWarnings("unchecked")
      java.util.HashMap<String, Object> decoded = codec.decode(codec.encode(map));
      assertThat(decoded.get("k").getClass().getClassLoader()).isSameAs(own);
    }
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
