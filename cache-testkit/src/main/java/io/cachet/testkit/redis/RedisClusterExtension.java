package io.cachet.testkit.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.servers.RedisBinary;

/**
 * A JUnit 5 extension that starts one {@link RedisCluster} (3 primaries, 3 replicas by default)
 * before a test class's tests and closes it after them.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RedisClusterExtension CLUSTER = new RedisClusterExtension();
 * @Test void get(RedisCluster cluster) { ... cluster.uri() ... }
 * }</pre>
 */
public final class RedisClusterExtension extends TopologyExtension<RedisCluster> {

    /** Creates an extension for 3 primaries with one replica each, run by {@link RedisBinary#AUTO}. */
    public RedisClusterExtension() {
        this(RedisBinary.AUTO, 3, 1);
    }

    /**
     * Creates an extension for the given cluster shape.
     *
     * @param binary which executable to run
     * @param primaries how many primaries, at least 3
     * @param replicasPerPrimary replicas of each primary
     */
    public RedisClusterExtension(RedisBinary binary, int primaries, int replicasPerPrimary) {
        super(RedisCluster.class, () -> RedisCluster.create(requireNonNull(binary, "binary"), primaries, replicasPerPrimary).start());
    }

    /**
     * Returns the running cluster.
     *
     * @return the cluster this extension started
     * @throws IllegalStateException outside the test class's lifetime
     */
    public RedisCluster cluster() {
        return get();
    }
}
