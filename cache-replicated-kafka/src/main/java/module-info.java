/**
 * Cachet's {@code replicated-kafka} backend: every node holds the cache in memory and changes it
 * only by applying a compacted Kafka topic.
 */
module io.cachet.replicated {
  requires transitive io.cachet;
  requires kafka.clients;
  requires org.slf4j;

  exports io.cachet.replicated;

  provides io.cachet.spi.CacheBackendProvider with
      io.cachet.replicated.ReplicatedCacheProvider;
}
