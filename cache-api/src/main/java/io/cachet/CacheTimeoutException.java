package io.cachet;

import org.jspecify.annotations.Nullable;

/** An operation did not complete within its time limit; its outcome may be unknown. */
public class CacheTimeoutException extends CacheException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and the underlying cause. */
  public CacheTimeoutException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
