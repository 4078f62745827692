package io.cachet.replicated;

import io.cachet.BackendOptions;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import io.cachet.spi.Checks;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider of the {@code replicated-kafka} backend, registered for {@link java.util.ServiceLoader}.
 *
 * <p>Creating a cache creates its topic if it is missing (or checks an existing one) and starts
 * replaying it; the cache is returned once it has caught up, or after
 * {@link ReplicationOptions#startupWait()} while it still replays (then it reports
 * {@link ReplicatedCache#isReady()} when it has caught up). Each cache has its own producer, consumer and admin client, closed with it.
 *
 * <p>Keys must have value equality: a key codec for an array type is rejected. The key codec must
 * also encode equal keys to identical bytes, on every node and across upgrades: records are
 * partitioned and compacted by the encoded key but merged by {@code equals}, so two encodings of
 * one key lose their order and can bring a removed value back when a node replays the topic (a key
 * holding a {@code Map} or {@code Set} does not qualify; see docs/replication.md). This is not
 * checked.
 */
public final class ReplicatedCacheProvider implements CacheBackendProvider {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedCacheProvider.class);

  /** The backend name: {@value}. */
  public static final String NAME = "replicated-kafka";

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public ReplicatedCacheProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Optional<BackendOptions> parseOptions(Map<String, String> options) {
    return Optional.of(ReplicationOptions.parse(options));
  }

  /**
   * Refuses {@code expireAfterAccess}, and {@code refreshAfterWrite} without
   * {@code expireAfterWrite}: an entry's age is {@code expireAfterWrite} minus the time left
   * before the deadline its record carries; entries without one carry no write time.
   */
  @Override
  public void checkSupported(CacheConfig<?, ?> config) {
    if (config.expireAfterAccess().isPresent()) {
      throw Checks.unsupported(config, NAME, "expireAfterAccess");
    }
    Checks.requireExpireAfterWriteForRefresh(config, NAME);
  }

  @Override
  public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
    ReplicationOptions options =
        config.backendOptions(ReplicationOptions.class).orElseGet(ReplicationOptions::defaults);
    Checks.keyCodec(config, NAME); // refuses array keys too: the replica finds keys by equals
    Checks.valueCodec(config, NAME);
    String topic = options.topicFor(config.name());
    Admin admin = Admin.create(KafkaClients.admin(options, topic + "-" + options.nodeId() + "-admin"));
    try {
      TopicSetup.TopicInfo info = TopicSetup.ensure(admin, topic, options);
      ReplicatedKafkaCache<K, V> cache = new ReplicatedKafkaCache<>(config, options, admin, info, context::closed);
      awaitStartup(cache, options);
      return cache;
    } catch (RuntimeException e) {
      admin.close(java.time.Duration.ofSeconds(1));
      throw e;
    }
  }

  private static void awaitStartup(ReplicatedKafkaCache<?, ?> cache, ReplicationOptions options) {
    if (options.startupWait().isZero()) {
      return;
    }
    try {
      boolean ready = cache.awaitReady(options.startupWait());
      Throwable failure = cache.replicaFailure();
      if (failure != null) {
        // The replica stopped for good: a cache that can never become ready is not handed out.
        cache.close();
        throw new io.cachet.CacheException("cache '" + cache.name() + "' could not start: its replica stopped"
            + " applying topic '" + options.topicFor(cache.name()) + "': " + failure, failure);
      }
      if (!ready) {
        LOG.warn("Cache '{}' is not ready after {}; returning it while it replays (reads throw CacheNotReadyException"
            + " until isReady())", cache.name(), options.startupWait());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cache.close();
      throw new io.cachet.CacheException("interrupted while cache '" + cache.name() + "' was replaying", e);
    }
  }
}
