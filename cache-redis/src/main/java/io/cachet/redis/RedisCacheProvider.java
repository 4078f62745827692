package io.cachet.redis;

import io.cachet.BackendOptions;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;
import io.cachet.spi.Checks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The provider of the {@code redis} backend, registered for {@link java.util.ServiceLoader}.
 *
 * <p>Caches of one manager whose connection options are all equal (address, database, user name,
 * password, command and connect timeouts, TLS stores) share one client, which the manager shuts
 * down when it closes; a cache with any of them different gets a client of its own. A client keeps
 * one invalidation connection per Redis primary, shared by all its caches with
 * {@link Coherence#TRACKING}.
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

  /**
   * Refuses {@code expireAfterAccess}, and {@code refreshAfterWrite} without
   * {@code expireAfterWrite}: an entry's age is {@code expireAfterWrite} minus its TTL in Redis.
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
    RedisOptions options = config.backendOptions(RedisOptions.class).orElseGet(RedisOptions::defaults);
    Checks.keyCodec(config, NAME); // refuses array keys too: the near cache finds keys by equals
    Checks.valueCodec(config, NAME);
    SharingKey key = sharingKey(options);
    RedisClient client = context.sharedResource(key, RedisClient.class, () -> RedisClient.connect(options));
    return new RedisCache<>(config, options, client, context::closed);
  }

  /**
   * The key of a shared Redisson client: equal for equal connection options. Its text, which
   * messages about the client show, names the address only (without credentials), never a
   * password or its digest.
   */
  record SharingKey(List<Object> options, String address) {
    @Override
    public String toString() {
      return "Redis client of " + address;
    }
  }

  /** Every option the shared Redisson client is built from; the passwords only as digests. */
  static SharingKey sharingKey(RedisOptions options) {
    return new SharingKey(List.of(
        NAME,
        options.parsedAddress().withoutDatabase().toString(), // the database counts once, below
        options.database(),
        options.username().orElse(""),
        options.password().map(RedisCacheProvider::sha256).orElse(""),
        options.commandTimeout(),
        options.connectTimeout(),
        options.trustStore().map(Object::toString).orElse(""),
        options.trustStorePassword().map(RedisCacheProvider::sha256).orElse(""),
        options.keyStore().map(Object::toString).orElse(""),
        options.keyStorePassword().map(RedisCacheProvider::sha256).orElse("")),
        options.parsedAddress().withoutDatabase().toString());
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
