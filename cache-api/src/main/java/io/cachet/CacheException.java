package io.cachet;

import org.jspecify.annotations.Nullable;

/** The base of every runtime failure a cache reports; misuse is reported with IAE, ISE or NPE instead. */
public class CacheException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and the underlying cause. */
  public CacheException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /** Creates an exception with a message and no underlying cause. */
  public CacheException(String message) {
    super(message);
  }
}
