/**
 * Launchers for the servers Cachet's test kit, examples and benchmarks run as child processes:
 * {@link io.cachet.servers.RedisProcess}, a {@code redis-server} on 127.0.0.1 and a free port, and
 * {@link io.cachet.servers.KafkaProcess}, a single-node Kafka broker (KRaft, combined mode) in a
 * JVM of its own. Each can be stopped, killed and restarted on the same port, signals only the
 * process it started, and is killed by a shutdown hook if its JVM exits first.
 *
 * <p>Not part of the caching API: nothing here is needed to use a cache, and anything here may
 * change in any release. The Kafka dependencies are optional: a module that starts a
 * {@code KafkaProcess} adds {@code kafka-clients}, {@code kafka-metadata},
 * {@code kafka-server-common} and {@code kafka_2.13}.
 */
@NullMarked
package io.cachet.servers;

import org.jspecify.annotations.NullMarked;
