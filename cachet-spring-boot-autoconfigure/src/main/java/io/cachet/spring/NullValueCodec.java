package io.cachet.spring;

import io.cachet.codec.Codec;
import java.util.Arrays;
import org.springframework.cache.support.NullValue;

/**
 * Wraps a value codec so that a remote cache can also hold Spring's {@link NullValue}, the value a
 * Spring cache stores for a {@code null} result when null values are allowed.
 *
 * <p>{@code NullValue} is written as {@link #MARKER}, five bytes starting with a NUL byte, which is
 * never valid JSON and never the UTF-8 of a string without control characters; any other bytes go to
 * the wrapped codec. A {@code byte[]} value equal to the marker would read back as {@code null}.
 */
final class NullValueCodec implements Codec<Object> {

  /** The bytes stored for a cached {@code null}. */
  static final byte[] MARKER = {0, 'n', 'u', 'l', 'l'};

  private final Codec<Object> values;

  @SuppressWarnings("unchecked") // encode only receives values checked by CachetCache against values.type()
  NullValueCodec(Codec<?> values) {
    this.values = (Codec<Object>) values;
  }

  /** Returns the codec of the non-null values. */
  Codec<?> values() {
    return values;
  }

  @Override
  public byte[] encode(Object value) {
    return value == NullValue.INSTANCE ? MARKER.clone() : values.encode(value);
  }

  @Override
  public Object decode(byte[] bytes) {
    return Arrays.equals(bytes, MARKER) ? NullValue.INSTANCE : values.decode(bytes);
  }

  @Override
  public Class<Object> type() {
    return Object.class;
  }

  @Override
  public String toString() {
    return values + " or null";
  }
}
