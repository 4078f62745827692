/**
 * The {@code replicated-kafka} backend: every node holds the cache in memory and changes it only by
 * applying the records of the cache's compacted Kafka topic in offset order. Use
 * {@link io.cachet.replicated.ReplicationOptions} to configure it and
 * {@code cache.unwrap(ReplicatedCache.class)} for readiness and read barriers. The record format
 * and the guarantees are described in {@code docs/replication.md}. The key codec must encode equal
 * keys to identical bytes (see {@link io.cachet.replicated.ReplicatedCacheProvider}).
 */
@NullMarked
package io.cachet.replicated;

import org.jspecify.annotations.NullMarked;
