package io.cachet;

import org.jspecify.annotations.Nullable;

/** The backend (a Redis server, a Kafka cluster) could not be reached. */
public class BackendUnavailableException extends CacheException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and the underlying cause. */
  public BackendUnavailableException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
