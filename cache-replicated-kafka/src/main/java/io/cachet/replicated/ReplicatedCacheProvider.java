package io.cachet.replicated;

import io.cachet.BackendOptions;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import io.cachet.spi.Checks;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
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
 * holding a {@code HashMap} or a {@code Set.of} does not qualify; see docs/replication.md). This is
 * not checked.
 */
public final class ReplicatedCacheProvider implements CacheBackendProvider {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedCacheProvider.class);

  /** The backend name: {@value}. */
  public static final String NAME = "replicated-kafka";

  /** Creates each cache's admin client from its properties. */
  private final Function<Map<String, Object>, Admin> admins;

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public ReplicatedCacheProvider() {
    this(Admin::create);
  }

  /** Creates a provider whose caches get their admin client from {@code admins} (tests pass a fake one). */
  ReplicatedCacheProvider(Function<Map<String, Object>, Admin> admins) {
    this.admins = admins;
  }

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
    if (config.maximumSize() == 0) {
      // A replica never evicts: its maximumSize admits new keys, and 0 would refuse every write.
      throw new IllegalArgumentException("cache '" + config.name() + "': backend '" + NAME + "' takes maximumSize"
          + " as the number of keys a replica admits, and 0 would refuse every write; set it above 0");
    }
  }

  @Override
  public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
    ReplicationOptions options =
        config.backendOptions(ReplicationOptions.class).orElseGet(ReplicationOptions::defaults);
    Checks.keyCodec(config, NAME); // refuses array keys too: the replica finds keys by equals
    Checks.valueCodec(config, NAME);
    String topic = options.topicFor(config.name());
    Admin admin = admins.apply(KafkaClients.admin(options, topic + "-" + options.nodeId() + "-admin"));
    ReplicatedKafkaCache<K, V> cache = null;
    try {
      TopicSetup.TopicInfo info = TopicSetup.ensure(admin, topic, options);
      cache = new ReplicatedKafkaCache<>(config, options, admin, info, context::closed);
      awaitStartup(cache, options);
      return cache;
    } catch (Throwable t) { // an Error too: no client or thread may outlive the failed creation
      try {
        if (cache != null) {
          cache.close(); // closes the admin client too; a no-op if awaitStartup closed it
        } else {
          admin.close(java.time.Duration.ofSeconds(1));
        }
      } catch (RuntimeException e) {
        t.addSuppressed(e);
      }
      throw t;
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
