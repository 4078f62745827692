package io.cachet.testkit.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.servers.RedisBinary;

/**
 * A JUnit 5 extension that starts one {@link RedisSentinel} setup (a primary, a replica, three
 * Sentinels) before a test class's tests and closes it after them.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RedisSentinelExtension SENTINEL = new RedisSentinelExtension();
 * @Test void get(RedisSentinel sentinel) { ... sentinel.uri() ... }
 * }</pre>
 */
public final class RedisSentinelExtension extends TopologyExtension<RedisSentinel> {

    /** Creates an extension for one primary and one replica, run by {@link RedisBinary#AUTO}. */
    public RedisSentinelExtension() {
        this(RedisBinary.AUTO, 1);
    }

    /**
     * Creates an extension for the given number of replicas.
     *
     * @param binary which executable to run
     * @param replicas how many replicas of the primary, at least 1
     */
    public RedisSentinelExtension(RedisBinary binary, int replicas) {
        super(RedisSentinel.class, () -> RedisSentinel.create(requireNonNull(binary, "binary"), replicas).start());
    }

    /**
     * Returns the running setup.
     *
     * @return the setup this extension started
     * @throws IllegalStateException outside the test class's lifetime
     */
    public RedisSentinel sentinel() {
        return get();
    }
}
