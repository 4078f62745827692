package io.cachet.examples.cluster;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.replicated.ReplicatedCache;
import io.cachet.replicated.ReplicationOptions;
import io.cachet.replicated.ReplicationStatus;
import java.time.Duration;

/**
 * A node's {@code replicated-kafka} cache, created through the public API only: a
 * {@link CacheManager}, a {@link CacheConfig} with {@link ReplicationOptions}, and
 * {@link ReplicatedCache} for readiness and lag. Thread-safe.
 */
final class ReplicatedNodeCache implements NodeCache {

  /** The backend's name in {@link CacheConfig.Builder#backend(String)}. */
  static final String BACKEND = "replicated-kafka";

  private final CacheManager manager;
  private final Cache<String, String> cache;
  private final ReplicatedCache<?, ?> replicated;

  private ReplicatedNodeCache(CacheManager manager, Cache<String, String> cache) {
    this.manager = manager;
    this.cache = cache;
    this.replicated = cache.unwrap(ReplicatedCache.class);
  }

  /**
   * Creates the cache; the replica then replays the topic in the background.
   *
   * @throws io.cachet.BackendUnavailableException when Kafka cannot be reached
   */
  static ReplicatedNodeCache open(NodeConfig config) {
    CacheManager manager = CacheManager.create();
    try {
      CacheConfig.Builder<String, String> builder = CacheConfig.builder(config.cacheName())
          .backend(BACKEND)
          .maximumSize(config.capacity())
          .backendOptions(ReplicationOptions.builder()
              .bootstrapServers(config.kafka())
              .nodeId(config.nodeId())
              .writeTimeout(config.writeTimeout())
              // Return at once: /health/ready reports replay progress while the replica catches up.
              .startupWait(Duration.ZERO)
              .build());
      config.defaultTtl().ifPresent(builder::expireAfterWrite);
      Cache<String, String> cache = manager.create(builder.build());
      return new ReplicatedNodeCache(manager, cache);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Returns the blocking cache, for metrics binding. */
  Cache<String, String> cache() {
    return cache;
  }

  @Override
  public AsyncCache<String, String> async() {
    return cache.async();
  }

  @Override
  public ReplicaState state() {
    ReplicationStatus s = replicated.status();
    return new ReplicaState(s.ready(), s.replayedRecords(), s.replayTarget(), s.replayProgress(), s.lagRecords(),
        s.lagMillis(), s.entries());
  }

  @Override
  public void close() {
    manager.close();
  }
}
