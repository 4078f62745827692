package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.codec.Codec;
import java.util.function.Consumer;

/** UTF-8 codecs that let a test fail, hold or observe encoding and decoding. */
final class TestCodecs {

  private TestCodecs() {}

  /**
   * A UTF-8 codec that first runs {@code onEncode} on each value and {@code onDecode} on each array;
   * either may throw, as a user's codec may.
   */
  static Codec<String> utf8(Consumer<String> onEncode, Consumer<byte[]> onDecode) {
    return new Codec<>() {
      @Override
      public byte[] encode(String value) {
        onEncode.accept(value);
        return value.getBytes(UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        onDecode.accept(bytes);
        return new String(bytes, UTF_8);
      }

      @Override
      public Class<String> type() {
        return String.class;
      }
    };
  }
}
