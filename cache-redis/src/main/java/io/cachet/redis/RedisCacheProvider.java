package io.cachet.redis;

import io.cachet.BackendOptions;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import java.time.Duration;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;
import org.redisson.config.SingleServerConfig;

/**
 * The provider of the {@code redis} backend, registered for {@link java.util.ServiceLoader}.
 *
 * <p>Caches of one manager that point at the same server, database and user share one Redisson
 * client, which the manager shuts down when it closes. Each cache with
 * {@link Coherence#TRACKING} has its own invalidation connection.
 */
public final class RedisCacheProvider implements CacheBackendProvider {

  /** The backend name: {@value}. */
  public static final String NAME = "redis";

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public RedisCacheProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Optional<BackendOptions> parseOptions(Map<String, String> options) {
    return Optional.of(RedisOptions.parse(options));
  }

  @Override
  public <K, V> Cache<K, V> create(CacheConfig config, BackendContext context) {
    RedisOptions options = config.backendOptions(RedisOptions.class).orElseGet(RedisOptions::defaults);
    List<Object> key = List.of(NAME, options.address(), options.database(), options.username().orElse(""));
    RedissonResource client =
        context.sharedResource(key, RedissonResource.class, () -> RedissonResource.connect(options));
    return new RedisCache<>(config, options, client.executor(), context::closed);
  }

  /** A Redisson client owned by a cache manager. */
  static final class RedissonResource implements AutoCloseable {

    private final RedissonClient client;

    private RedissonResource(RedissonClient client) {
      this.client = client;
    }

    static RedissonResource connect(RedisOptions options) {
      Config config = new Config();
      config.setCodec(ByteArrayCodec.INSTANCE);
      // Sized for a cache client, not Redisson's defaults (32 event-loop threads, 24 idle connections).
      config.setNettyThreads(Math.max(2, Runtime.getRuntime().availableProcessors()));
      // Scripts (GET+PTTL, compare-and-set) are sent as EVALSHA once loaded.
      config.setUseScriptCache(true);
      SingleServerConfig server =
          config
              .useSingleServer()
              .setAddress(options.address())
              .setDatabase(options.database())
              .setTimeout((int) options.commandTimeout().toMillis())
              .setConnectTimeout((int) options.connectTimeout().toMillis())
              .setRetryAttempts(1)
              .setRetryDelay(new ConstantDelay(Duration.ofMillis(100)))
              .setConnectionMinimumIdleSize(2)
              .setConnectionPoolSize(32)
              .setSubscriptionConnectionMinimumIdleSize(0)
              .setSubscriptionConnectionPoolSize(1)
              .setPingConnectionInterval(1_000);
      options.username().ifPresent(server::setUsername);
      options.password().ifPresent(server::setPassword);
      try {
        return new RedissonResource(Redisson.create(config));
      } catch (RuntimeException e) {
        throw new BackendUnavailableException(
            "cannot connect to Redis at " + options.address() + " within " + options.connectTimeout() + ": " + e.getMessage(), e);
      }
    }

    org.redisson.command.CommandAsyncExecutor executor() {
      return ((Redisson) client).getCommandExecutor();
    }

    @Override
    public void close() {
      client.shutdown();
    }

    @Override
    public String toString() {
      return "Redisson client " + client.getConfig().useSingleServer().getAddress();
    }
  }
}
