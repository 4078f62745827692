package io.cachet;

import org.jspecify.annotations.Nullable;

/** A loader passed to {@link Cache#get(Object, java.util.function.Function)} failed; nothing was cached. */
public class CacheLoadException extends CacheException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and the loader's failure as the cause. */
  public CacheLoadException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
