package io.cachet;

import org.jspecify.annotations.Nullable;

/** The cache cannot serve yet, for example a replica still replaying its log. */
public class CacheNotReadyException extends CacheException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and an optional cause. */
  public CacheNotReadyException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
