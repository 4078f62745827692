package io.cachet.jcache;

import io.cachet.CacheConfig;
import io.cachet.RemovalListener;
import io.cachet.Ticker;
import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import java.io.Serializable;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link CachetCacheManager}'s caches are stored with: the Cachet configuration of each
 * JCache cache's backing cache, and the codecs its options name ({@code java}, the default, being
 * Java serialization with the manager's class loader). Thread-safe.
 */
final class BackingConfigs {

  private final Supplier<ClassLoader> classLoader;
  private final Codec<Serializable> serializationCodec;

  /** @param classLoader the manager's class loader, read at each use (the manager holds it weakly) */
  BackingConfigs(Supplier<ClassLoader> classLoader) {
    this.classLoader = classLoader;
    this.serializationCodec = new ManagerSerializationCodec(classLoader);
  }

  /** Returns the Java serialization codec, resolving classes with the manager's class loader at each use. */
  Codec<Serializable> serializationCodec() {
    return serializationCodec;
  }

  /**
   * The Cachet configuration of the cache that backs JCache cache {@code cacheName}: its codecs
   * wrap keys in {@link ObjectCodec} and values in {@link ExpirableCodec}, it does not evict unless
   * {@code maximumSize} is set, and its ticker follows {@code clock}.
   */
  CacheConfig<Object, Expirable> config(
      String cacheName, CachetConfiguration<?, ?> config, InstantSource clock,
      RemovalListener<Object, Expirable> listener) {
    Map<String, String> options = config.getOptions();
    CacheConfig.Builder<Object, Expirable> builder =
        CacheConfig.builder(cacheName)
            .keyCodec(ObjectCodec.of(codec(options.get("keyCodec"))))
            .valueCodec(new ExpirableCodec(codec(options.get("valueCodec"))))
            .backend(config.getBackend());
    for (Map.Entry<String, String> option : options.entrySet()) {
      switch (option.getKey()) {
        // JCache keeps its own expiry and types; codecs are set above.
        case "backend", "expireAfterWrite", "keyCodec", "valueCodec", "keyType", "valueType" -> {}
        default -> builder.option(option.getKey(), option.getValue());
      }
    }
    if (!options.containsKey("maximumSize")) {
      builder.maximumSize(Long.MAX_VALUE); // JCache caches do not evict unless asked to
    }
    // The backend's time to live runs on its ticker, JCache deadlines on the clock: keep them on
    // one time line when the clock is not the system's (a Ticker, or a custom clock).
    if (clock instanceof Ticker ticker) {
      builder.ticker(ticker);
    } else if (config.getClock().isPresent()) {
      builder.ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()));
    }
    builder.clock(clock);
    // The JCache layer hands each removal notice it cares about to this manager's threads at once.
    builder.executor(Runnable::run);
    builder.removalListener(listener);
    config.getBackendOptions().forEach(builder::backendOptions);
    return builder.build();
  }

  private Codec<?> codec(@Nullable String name) {
    if (name == null || name.equalsIgnoreCase("java")) {
      return serializationCodec;
    }
    return Codecs.named("codec", name, classLoader.get());
  }

  /** Java serialization that resolves classes with the manager's class loader, read at each use. Thread-safe. */
  private static final class ManagerSerializationCodec implements Codec<Serializable> {

    private final Supplier<ClassLoader> classLoader;

    ManagerSerializationCodec(Supplier<ClassLoader> classLoader) {
      this.classLoader = classLoader;
    }

    private Codec<Serializable> delegate() {
      return Codecs.javaSerialization(classLoader.get());
    }

    @Override
    public byte[] encode(Serializable value) {
      return delegate().encode(value);
    }

    @Override
    public Serializable decode(byte[] bytes) {
      return delegate().decode(bytes);
    }

    @Override
    public Class<Serializable> type() {
      return Serializable.class;
    }

    @Override
    public String toString() {
      return "Codecs.javaSerialization()";
    }
  }
}
