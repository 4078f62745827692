package io.cachet.spring.boot;

import io.cachet.EvictionPolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Cachet's Spring Boot properties: caches declared under {@code cachet.caches.<name>.<option>}, with
 * the option names of Cachet's properties files in Boot's relaxed forms.
 *
 * <pre>
 * cachet:
 *   caches:
 *     orders:
 *       backend: redis
 *       maximum-size: 10000
 *       expire-after-write: 10m
 *       value-codec: json:com.example.Order
 *       redis:
 *         address: redis://127.0.0.1:6379
 *         key-prefix: "orders:"
 * </pre>
 */
@ConfigurationProperties("cachet")
public class CachetProperties {

  /** The caches to create at start-up, by name; a name containing dots is written in brackets. */
  private Map<String, CacheSpec> caches = new LinkedHashMap<>();

  /**
   * Whether caches store a null result (as Spring's NullValue), as Spring's cache managers do by
   * default; each cache may override it.
   */
  private boolean allowNullValues = true;

  /**
   * Whether an undeclared cache name used by a @Cacheable method is created on first use as a local
   * cache with default options. Default: only when no cache is declared.
   */
  private @Nullable Boolean dynamic;

  public Map<String, CacheSpec> getCaches() {
    return caches;
  }

  public void setCaches(Map<String, CacheSpec> caches) {
    this.caches = caches;
  }

  public boolean isAllowNullValues() {
    return allowNullValues;
  }

  public void setAllowNullValues(boolean allowNullValues) {
    this.allowNullValues = allowNullValues;
  }

  public @Nullable Boolean getDynamic() {
    return dynamic;
  }

  public void setDynamic(@Nullable Boolean dynamic) {
    this.dynamic = dynamic;
  }

  /** One cache's options; unset options keep Cachet's defaults. */
  public static class CacheSpec {

    /** The backend: local, redis or replicated-kafka. */
    private @Nullable String backend;

    /** The bound in entries (for remote backends, of the local part). */
    private @Nullable Long maximumSize;

    /** How a full cache evicts: tiny-lfu (default) or lru (exact). */
    private @Nullable EvictionPolicy evictionPolicy;

    /** How long an entry lives after it is written, such as 10m. */
    private @Nullable Duration expireAfterWrite;

    /** How long an entry lives after it is last read or written, such as 5m (local caches, either eviction policy). */
    private @Nullable Duration expireAfterAccess;

    /**
     * After how long a read through a loader (@Cacheable(sync = true)) returns the value and reloads
     * it in the background, such as 1m; shorter than expire-after-write.
     */
    private @Nullable Duration refreshAfterWrite;

    /** Whether entries may carry their own time to live. */
    private @Nullable Boolean perEntryTtl;

    /** Whether the cache keeps statistics (and so hit and miss meters). */
    private @Nullable Boolean recordStats;

    /** The key class; local caches take any key when unset, remote ones String keys. */
    private @Nullable String keyType;

    /** The value class, for local caches; remote backends need a value codec instead. */
    private @Nullable String valueType;

    /** The key codec: string, bytes, java:<class>, json:<class>. */
    private @Nullable String keyCodec;

    /** The value codec: string, bytes, java:<class> or json:<class> (the choice for objects on remote backends). */
    private @Nullable String valueCodec;

    /** Whether this cache stores a null result; cachet.allow-null-values when unset. */
    private @Nullable Boolean allowNullValues;

    /**
     * Options of the redis backend (address, key-prefix, coherence, near-cache-max-age, ...); the
     * key prefix defaults to the cache's name followed by "::".
     */
    private Map<String, String> redis = new LinkedHashMap<>();

    /** Options of the replicated-kafka backend (bootstrap-servers, topic, node-id, ...). */
    private Map<String, String> replicatedKafka = new LinkedHashMap<>();

    public @Nullable String getBackend() {
      return backend;
    }

    public void setBackend(@Nullable String backend) {
      this.backend = backend;
    }

    public @Nullable Long getMaximumSize() {
      return maximumSize;
    }

    public void setMaximumSize(@Nullable Long maximumSize) {
      this.maximumSize = maximumSize;
    }

    public @Nullable EvictionPolicy getEvictionPolicy() {
      return evictionPolicy;
    }

    public void setEvictionPolicy(@Nullable EvictionPolicy evictionPolicy) {
      this.evictionPolicy = evictionPolicy;
    }

    public @Nullable Duration getExpireAfterWrite() {
      return expireAfterWrite;
    }

    public void setExpireAfterWrite(@Nullable Duration expireAfterWrite) {
      this.expireAfterWrite = expireAfterWrite;
    }

    public @Nullable Duration getExpireAfterAccess() {
      return expireAfterAccess;
    }

    public void setExpireAfterAccess(@Nullable Duration expireAfterAccess) {
      this.expireAfterAccess = expireAfterAccess;
    }

    public @Nullable Duration getRefreshAfterWrite() {
      return refreshAfterWrite;
    }

    public void setRefreshAfterWrite(@Nullable Duration refreshAfterWrite) {
      this.refreshAfterWrite = refreshAfterWrite;
    }

    public @Nullable Boolean getPerEntryTtl() {
      return perEntryTtl;
    }

    public void setPerEntryTtl(@Nullable Boolean perEntryTtl) {
      this.perEntryTtl = perEntryTtl;
    }

    public @Nullable Boolean getRecordStats() {
      return recordStats;
    }

    public void setRecordStats(@Nullable Boolean recordStats) {
      this.recordStats = recordStats;
    }

    public @Nullable String getKeyType() {
      return keyType;
    }

    public void setKeyType(@Nullable String keyType) {
      this.keyType = keyType;
    }

    public @Nullable String getValueType() {
      return valueType;
    }

    public void setValueType(@Nullable String valueType) {
      this.valueType = valueType;
    }

    public @Nullable String getKeyCodec() {
      return keyCodec;
    }

    public void setKeyCodec(@Nullable String keyCodec) {
      this.keyCodec = keyCodec;
    }

    public @Nullable String getValueCodec() {
      return valueCodec;
    }

    public void setValueCodec(@Nullable String valueCodec) {
      this.valueCodec = valueCodec;
    }

    public @Nullable Boolean getAllowNullValues() {
      return allowNullValues;
    }

    public void setAllowNullValues(@Nullable Boolean allowNullValues) {
      this.allowNullValues = allowNullValues;
    }

    public Map<String, String> getRedis() {
      return redis;
    }

    public void setRedis(Map<String, String> redis) {
      this.redis = redis;
    }

    public Map<String, String> getReplicatedKafka() {
      return replicatedKafka;
    }

    public void setReplicatedKafka(Map<String, String> replicatedKafka) {
      this.replicatedKafka = replicatedKafka;
    }
  }
}
