package io.cachet;

/**
 * Options specific to one backend, such as {@code RedisOptions}, carried by a {@link CacheConfig}.
 *
 * <p>Implementations are immutable. A configuration holds at most one instance of each class.
 */
public interface BackendOptions {}
