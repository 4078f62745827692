package io.cachet.testkit.redis;

/**
 * Which {@code redis-server} executable a {@link RedisServer} runs.
 *
 * <p>{@link #AUTO} honours the system property {@value RedisServer#BINARY_PROPERTY}; the other
 * constants ignore it.
 */
public enum RedisBinary {
    /**
     * The system property {@value RedisServer#BINARY_PROPERTY} when set ({@code path},
     * {@code embedded}, {@code auto} or the path of an executable), otherwise {@link #PATH} when a
     * {@code redis-server} is on the {@code PATH}, otherwise {@link #EMBEDDED}.
     */
    AUTO,
    /** The first executable {@code redis-server} on the {@code PATH}; fails when there is none. */
    PATH,
    /** The Redis binary bundled in {@code com.github.codemonstur:embedded-redis}. */
    EMBEDDED
}
