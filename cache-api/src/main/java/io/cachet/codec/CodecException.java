package io.cachet.codec;

import io.cachet.CacheException;
import org.jspecify.annotations.Nullable;

/** A value could not be encoded, or bytes could not be decoded, by a {@link Codec}. */
public class CodecException extends CacheException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and the underlying cause. */
  public CodecException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
