package io.cachet.spring;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheLoadException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.cache.support.AbstractValueAdaptingCache;
import org.springframework.cache.support.NullValue;
import org.springframework.core.convert.ConversionException;
import org.springframework.core.convert.ConversionService;

/**
 * A Spring {@link org.springframework.cache.Cache} over a Cachet {@link Cache}.
 *
 * <ul>
 *   <li>{@link #get(Object, Callable)} is Cachet's single-flight {@link Cache#get(Object,
 *       java.util.function.Function)}: concurrent misses on one key in this process call the loader
 *       once; a loader's exception reaches the caller as a {@link ValueRetrievalException} with the
 *       exception as its cause, and nothing is cached.
 *   <li>{@link #retrieve(Object)} and {@link #retrieve(Object, Supplier)} use the cache's
 *       non-blocking view, so {@code @Cacheable} methods returning {@code CompletableFuture} never
 *       block; the value supplier runs on the caller's thread when the lookup is answered at once
 *       (a local cache, a near-cache entry), and otherwise on the cache's executor
 *       ({@link io.cachet.CacheConfig#executor()}), never on a backend I/O thread; what the callers
 *       chain on the returned future runs on that executor; concurrent calls for one key in this
 *       process share one supplier call.
 *   <li>Keys of another type than the cache's are converted to it through the
 *       {@link ConversionService} (remote caches keep {@code String} keys, so a {@code Long} id or a
 *       {@code SimpleKey} becomes its string form); a key that cannot be converted is an
 *       {@link IllegalArgumentException} naming the cache and both types.
 *   <li>A value that is not of the cache's declared value type is an
 *       {@link IllegalArgumentException} naming the cache and both types, before anything is stored.
 *   <li>With null values allowed, a {@code null} is stored as Spring's {@link NullValue}; without,
 *       storing {@code null} is refused as by every Spring cache, and so is a {@code null} from the
 *       loader of {@link #get(Object, Callable)} (as a {@link ValueRetrievalException} whose cause
 *       is an {@link IllegalArgumentException}).
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class CachetCache extends AbstractValueAdaptingCache {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CachetCache.class);

  private final Cache<Object, Object> cache;
  private final Class<?> valueType;
  private final ConversionService conversions;
  private final Executor executor;
  private final ConcurrentHashMap<Object, Retrieval> retrievals = new ConcurrentHashMap<>();

  /** A {@link #retrieve(Object, Supplier)} in flight: its outcome, and whether an eviction overtook it. */
  private static final class Retrieval {
    final CompletableFuture<@Nullable Object> future = new CompletableFuture<>();
    /** Set when the key was evicted or the cache cleared while the supplier ran. */
    volatile boolean evicted;
  }

  /**
   * Creates an adapter over {@code cache}.
   *
   * @param cache the Cachet cache; with {@code allowNullValues} its value type must hold
   *     {@link NullValue}
   * @param valueType the type of the values callers may store
   * @param allowNullValues whether {@code null} values are stored (as {@link NullValue})
   * @param conversions converts keys to the cache's key type
   */
  @SuppressWarnings("unchecked") // keys and values are checked against the config's types on the way in
  public CachetCache(
      Cache<?, ?> cache, Class<?> valueType, boolean allowNullValues, ConversionService conversions) {
    super(allowNullValues);
    this.cache = (Cache<Object, Object>) requireNonNull(cache, "cache");
    this.valueType = requireNonNull(valueType, "valueType");
    this.conversions = requireNonNull(conversions, "conversions");
    this.executor = cache.config().executor();
    if (allowNullValues && !cache.config().valueType().isAssignableFrom(NullValue.class)) {
      throw new IllegalArgumentException(
          "cache '" + cache.name() + "' holds " + cache.config().valueType().getName()
              + " values, which cannot hold Spring's NullValue; disallow null values for it");
    }
  }

  @Override
  public String getName() {
    return cache.name();
  }

  /** Returns the Cachet {@link Cache}. */
  @Override
  public Cache<?, ?> getNativeCache() {
    return cache;
  }

  /** Returns the type of the values callers may store. */
  public Class<?> getValueType() {
    return valueType;
  }

  @Override
  protected @Nullable Object lookup(Object key) {
    return cache.get(key(key));
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> @Nullable T get(Object key, Callable<T> valueLoader) {
    Object k = key(key);
    try {
      return (T) fromStoreValue(cache.get(k, ignored -> load(key, valueLoader)));
    } catch (CacheLoadException e) {
      Throwable cause = e.getCause() instanceof LoaderFailure f ? f.getCause() : e.getCause();
      throw new ValueRetrievalException(key, valueLoader, cause != null ? cause : e);
    } catch (LoaderFailure e) {
      throw new ValueRetrievalException(key, valueLoader, e.getCause());
    }
  }

  private Object load(Object key, Callable<?> valueLoader) {
    Object value;
    try {
      value = valueLoader.call();
    } catch (RuntimeException e) {
      throw new LoaderFailure(e);
    } catch (Exception e) {
      throw new LoaderFailure(e);
    }
    if (value == null && !isAllowNullValues()) {
      // Refused as by Spring's own caches, whose get(key, Callable) wraps the refusal in a
      // ValueRetrievalException; returning null would cache nothing and reload on every call.
      throw new LoaderFailure(new IllegalArgumentException(
          "cache '" + getName() + "' does not allow null values, and the loader returned null for key '" + key + "'"));
    }
    return value == null ? NullValue.INSTANCE : checkedValue(key, value);
  }

  /**
   * Looks {@code key} up without blocking. A value already at hand (a local or near-cache hit)
   * completes the future on the caller's thread; a lookup that waits for the backend completes it
   * on the cache's {@linkplain io.cachet.CacheConfig#executor() executor}, never on the backend's
   * I/O thread: on a miss, Spring runs the cached method and stores its result from there.
   */
  @Override
  public @Nullable CompletableFuture<?> retrieve(Object key) {
    CompletableFuture<@Nullable Object> found = async().get(key(key)).toCompletableFuture();
    return found.isDone()
        ? found.thenApply(this::toRetrieved)
        : found.thenApplyAsync(this::toRetrieved, executor);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> CompletableFuture<T> retrieve(Object key, Supplier<CompletableFuture<T>> valueLoader) {
    Object k = key(key);
    Retrieval retrieval = new Retrieval();
    CompletableFuture<@Nullable Object> mine = retrieval.future;
    Retrieval running = retrievals.putIfAbsent(k, retrieval);
    if (running != null) {
      return (CompletableFuture<T>) running.future.thenApply(this::fromStoreValue);
    }
    CompletableFuture<@Nullable Object> lookup;
    try {
      lookup = async().get(k).toCompletableFuture();
    } catch (RuntimeException | Error e) {
      // Thrown before any callback could end the retrieval (after close): end it here, or the
      // callers that joined it would wait forever.
      retrievals.remove(k, retrieval);
      mine.completeExceptionally(e);
      throw e;
    }
    Function<@Nullable Object, CompletableFuture<@Nullable Object>> orLoad = found -> found != null
        ? CompletableFuture.completedFuture(found)
        : valueLoader.get().thenCompose(loaded -> store(key, k, loaded, retrieval));
    // A lookup answered at once (a local or near-cache hit or miss) goes on on the caller's thread,
    // as Spring's own caches run the supplier: its thread-bound state (a transaction, a security
    // context) stays. One that waited for the backend goes on on the executor, never on its I/O thread.
    (lookup.isDone() ? lookup.thenCompose(orLoad) : lookup.thenComposeAsync(orLoad, executor))
        .whenComplete((value, error) -> {
          retrievals.remove(k, retrieval);
          Runnable finish = () -> {
            if (error != null) {
              mine.completeExceptionally(error);
            } else {
              mine.complete(value);
            }
          };
          // On the executor too: the store's stage completes on the backend's I/O thread, and what
          // the callers chain on the returned future must not run there. An executor that refuses
          // (shut down, saturated) must not leave the callers waiting: then it completes here.
          try {
            executor.execute(finish);
          } catch (RejectedExecutionException e) {
            finish.run();
          }
        });
    return (CompletableFuture<T>) mine.thenApply(this::fromStoreValue);
  }

  /**
   * Stores a loaded value unless another writer stored one meanwhile, and returns the value the
   * cache then holds, as {@link #get(Object, Callable)} does: a value put while the supplier ran
   * is newer than the one it loaded. An eviction of the key or a clear while the supplier ran
   * wins over it, also as there: the value is handed to the callers, not left in the cache (the
   * flag is read after the store, and set before the eviction, so one of them removes it).
   */
  private CompletableFuture<@Nullable Object> store(Object key, Object k, @Nullable Object loaded, Retrieval retrieval) {
    if (loaded == null && !isAllowNullValues()) {
      return CompletableFuture.completedFuture(null);
    }
    Object value = loaded == null ? NullValue.INSTANCE : checkedValue(key, loaded);
    if (retrieval.evicted) {
      return CompletableFuture.completedFuture(value);
    }
    return async().putIfAbsent(k, value).toCompletableFuture().thenCompose(stored -> {
      if (stored && retrieval.evicted) {
        return undo(k, value);
      }
      return stored
          ? CompletableFuture.completedFuture(value)
          : async().get(k).toCompletableFuture().thenApply(winner -> winner != null ? winner : value);
    });
  }

  /**
   * Removes {@code value}, stored by a retrieval that an eviction overtook, and completes with it:
   * on the executor, as a remote cache's remove blocks and this may run on its I/O thread. The
   * callers get the value whatever happens to the removal; one that fails is logged.
   */
  private CompletableFuture<@Nullable Object> undo(Object k, Object value) {
    Runnable remove = () -> {
      try {
        cache.remove(k, value);
      } catch (RuntimeException e) {
        LOG.warn("Cache '{}' could not remove the value of key '{}' loaded before an eviction", getName(), k, e);
      }
    };
    try {
      return CompletableFuture.runAsync(remove, executor).handle((ignored, error) -> value);
    } catch (RejectedExecutionException e) {
      LOG.warn("Cache '{}' could not remove the value of key '{}' loaded before an eviction: its executor refused",
          getName(), k);
      return CompletableFuture.completedFuture(value);
    }
  }

  /**
   * Tells a {@link #retrieve(Object, Supplier)} of {@code k} in flight that the key is being
   * evicted, and takes it out of the map, so that a caller arriving after the eviction starts a
   * load of its own rather than join one that may have read the source before the change.
   */
  private void evicting(Object k) {
    Retrieval running = retrievals.get(k);
    if (running != null) {
      running.evicted = true;
      retrievals.remove(k, running);
    }
  }

  private @Nullable Object toRetrieved(@Nullable Object stored) {
    if (stored == null) {
      return null;
    }
    return isAllowNullValues() ? toValueWrapper(stored) : stored;
  }

  @Override
  public void put(Object key, @Nullable Object value) {
    cache.put(key(key), storeValue(key, value));
  }

  @Override
  public @Nullable ValueWrapper putIfAbsent(Object key, @Nullable Object value) {
    Object k = key(key);
    Object stored = storeValue(key, value);
    // Cachet's putIfAbsent answers whether it stored; read the winner when it did not, and try
    // again if that one was removed in between.
    while (true) {
      if (cache.putIfAbsent(k, stored)) {
        return null;
      }
      Object existing = cache.get(k);
      if (existing != null) {
        return toValueWrapper(existing);
      }
    }
  }

  @Override
  public void evict(Object key) {
    Object k = key(key);
    evicting(k);
    cache.remove(k);
  }

  @Override
  public boolean evictIfPresent(Object key) {
    Object k = key(key);
    evicting(k);
    return cache.remove(k);
  }

  @Override
  public void clear() {
    retrievals.forEach((k, r) -> evicting(k));
    cache.clear();
  }

  /**
   * Removes every entry; returns whether entries were known to be there (for remote caches, in
   * the local part).
   */
  @Override
  public boolean invalidate() {
    boolean had = cache.estimatedSize() > 0;
    clear();
    return had;
  }

  private AsyncCache<Object, Object> async() {
    return cache.async();
  }

  private Object storeValue(Object key, @Nullable Object value) {
    Object stored = toStoreValue(value); // refuses null unless null values are allowed
    return stored == NullValue.INSTANCE ? stored : checkedValue(key, stored);
  }

  private Object checkedValue(Object key, Object value) {
    if (!valueType.isInstance(value)) {
      throw new IllegalArgumentException(
          "cache '" + getName() + "' holds " + valueType.getName() + " values, was given a "
              + value.getClass().getName() + " for key '" + key + "'");
    }
    return value;
  }

  private Object key(Object key) {
    requireNonNull(key, "key");
    Class<?> keyType = cache.config().keyType();
    if (keyType.isInstance(key)) {
      return key;
    }
    if (keyType == String.class && !SimpleKeys.ownsToString(key.getClass())) {
      throw new IllegalArgumentException(
          "cache '" + getName() + "' has String keys and a " + key.getClass().getName()
              + " key has no toString() of its own to become one; convert it, or give the cache a key codec");
    }
    Class<?> identityString = keyType == String.class ? SimpleKeys.identityStringParameter(key) : null;
    if (identityString != null) {
      throw new IllegalArgumentException(
          "cache '" + getName() + "' has String keys and the key of a method call has a parameter of type "
              + identityString.getName() + ", which has no toString() of its own, so the key cannot become one;"
              + " give the method a key expression, or the cache a key codec");
    }
    if (conversions.canConvert(key.getClass(), keyType)) {
      Object converted;
      try {
        converted = conversions.convert(key, keyType);
      } catch (ConversionException e) {
        throw new IllegalArgumentException(
            "cache '" + getName() + "' has " + keyType.getName() + " keys and cannot convert the "
                + key.getClass().getName() + " key '" + key + "' to one: " + e.getMessage(), e);
      }
      if (converted != null) {
        return converted;
      }
    }
    if (keyType == String.class) {
      return key.toString(); // its own toString() (checked above): SimpleKey [a,2], a record's form
    }
    throw new IllegalArgumentException(
        "cache '" + getName() + "' has " + keyType.getName() + " keys and cannot convert a "
            + key.getClass().getName() + " key to one");
  }

  /** Carries a loader's exception through Cachet's load, so it reaches Spring unwrapped once. */
  private static final class LoaderFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LoaderFailure(Exception cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }
}
