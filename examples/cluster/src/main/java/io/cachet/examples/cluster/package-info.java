/**
 * A replicated cache cluster built only on Cachet's public API. {@link
 * io.cachet.examples.cluster.ClusterNode} is one REST cache node ({@code /api/cache/{key}}) on a
 * {@code replicated-kafka} cache; {@link io.cachet.examples.cluster.ClusterLauncher} starts a Kafka
 * broker, N nodes and a round-robin balancer with one command: {@code java -jar cluster.jar}.
 */
@NullMarked
package io.cachet.examples.cluster;

import org.jspecify.annotations.NullMarked;
