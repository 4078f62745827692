package io.cachet.redis;

import io.cachet.BackendOptions;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import io.cachet.spi.Checks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;
import org.redisson.config.SingleServerConfig;

/**
 * The provider of the {@code redis} backend, registered for {@link java.util.ServiceLoader}.
 *
 * <p>Caches of one manager whose connection options are all equal (address, database, user name,
 * password, command and connect timeouts) share one Redisson client, which the manager shuts down
 * when it closes; a cache with any of them different gets a client of its own. Each cache with
 * {@link Coherence#TRACKING} has its own invalidation connection.
 *
 * <p>Keys must have value equality: a key codec for an array type (such as
 * {@code Codecs.bytes()}) is rejected, because the near cache would compare keys by identity.
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
  public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
    RedisOptions options = config.backendOptions(RedisOptions.class).orElseGet(RedisOptions::defaults);
    if (config.keyType().isArray()) {
      throw new IllegalArgumentException(
          "keyCodec must encode a type with value equality for the redis backend, was "
              + config.keyCodec().map(Object::toString).orElse("none, for " + config.keyType().getName())
              + " (arrays compare by identity, so the near cache could never find a key again)");
    }
    Checks.keyCodec(config, NAME);
    Checks.valueCodec(config, NAME);
    List<Object> key = sharingKey(options);
    RedissonResource client =
        context.sharedResource(key, RedissonResource.class, () -> RedissonResource.connect(options));
    return new RedisCache<>(config, options, client.executor(), context::closed);
  }

  /** Every option the shared Redisson client is built from; the password only as a digest. */
  static List<Object> sharingKey(RedisOptions options) {
    return List.of(
        NAME,
        options.address(),
        options.database(),
        options.username().orElse(""),
        options.password().map(RedisCacheProvider::sha256).orElse(""),
        options.commandTimeout(),
        options.connectTimeout());
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
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
              // No retries: after a response timeout Redisson would resend the command, and a
              // conditional write (SET NX, compare-and-set) that had in fact been applied would then
              // report false. Every call fails within commandTimeout instead.
              .setRetryAttempts(0)
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
