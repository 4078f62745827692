package io.cachet.jcache;

import io.cachet.BackendOptions;
import io.cachet.spi.CacheBackendProvider;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.cache.CacheException;
import javax.cache.expiry.EternalExpiryPolicy;
import org.jspecify.annotations.Nullable;

/**
 * The default Cachet settings of a cache manager's caches: {@code cachet.jcache.default.<option>}
 * and {@code cachet.jcache.default.<backend>.<option>} entries, from the JVM's system properties
 * and the manager's properties (which win). They fill in what a cache's configuration (and its
 * declaration in the manager's configuration file) leaves unset:
 *
 * <pre>
 * cachet.jcache.default.backend=redis
 * cachet.jcache.default.redis.address=10.0.0.5:6379
 * cachet.jcache.default.redis.keyPrefix=jcache:{cache}:
 * </pre>
 *
 * <ul>
 *   <li>{@code backend}: for configurations that choose none (plain JCache configurations, and
 *       {@link CachetConfiguration}s and declarations without a backend);
 *   <li>other core options (those of {@link io.cachet.CacheConfig#OPTION_NAMES}): where the
 *       configuration does not set them; {@code expireAfterWrite} only when the configuration keeps
 *       the default eternal expiry;
 *   <li>{@code <backend>.<option>}: the options of that backend, for every cache of that backend
 *       whose configuration has no options object of that backend.
 * </ul>
 *
 * <p>{@code {cache}} in a value is replaced by the cache's name, so that each cache gets its own key
 * prefix. Everything is validated when the manager is created. Immutable.
 */
final class CacheDefaults {

  /** The prefix of the default settings: {@value}. */
  static final String PREFIX = "cachet.jcache.default.";

  /** Replaced by the cache's name in values: {@value}. */
  static final String CACHE_NAME = "{cache}";

  private static final CacheDefaults NONE = new CacheDefaults(Map.of(), Map.of(), "");

  private final Map<String, String> options;
  private final Map<String, CacheBackendProvider> backends;
  private final String source;

  private CacheDefaults(Map<String, String> options, Map<String, CacheBackendProvider> backends, String source) {
    this.options = options;
    this.backends = backends;
    this.source = source;
  }

  /**
   * Reads the defaults from the system properties and {@code properties} (which win) and validates
   * them.
   *
   * @throws CacheException naming the entry if one is unknown or invalid
   */
  static CacheDefaults read(
      Properties properties, Properties systemProperties, Map<String, CacheBackendProvider> backends) {
    Map<String, String> found = new TreeMap<>();
    collect(systemProperties, found);
    collect(properties, found);
    if (found.isEmpty()) {
      return NONE;
    }
    String source = "the default cache settings (" + PREFIX + "*)";
    CacheDefaults defaults = new CacheDefaults(found, backends, source);
    defaults.resolve("default"); // validates
    return defaults;
  }

  private static void collect(Properties from, Map<String, String> into) {
    for (String key : from.stringPropertyNames()) {
      if (key.startsWith(PREFIX)) {
        into.put(key.substring(PREFIX.length()), from.getProperty(key).trim());
      }
    }
  }

  /** Returns whether there are no defaults. */
  boolean isEmpty() {
    return options.isEmpty();
  }

  /**
   * Returns {@code config} completed with the defaults for cache {@code cacheName}: a new
   * configuration, or {@code config} itself when there are no defaults.
   *
   * @param backendChosen whether the configuration (or the cache's declaration) chose the backend
   */
  <K, V> CachetConfiguration<K, V> apply(
      String cacheName, CachetConfiguration<K, V> config, boolean backendChosen) {
    if (isEmpty()) {
      return config;
    }
    Resolved resolved = resolve(cacheName);
    CachetConfiguration<K, V> merged = new CachetConfiguration<>(config);
    if (!backendChosen && resolved.backend() != null) {
      merged.setBackend(resolved.backend());
    }
    for (Map.Entry<String, String> option : resolved.core().entrySet()) {
      if (merged.getOptions().containsKey(option.getKey())) {
        continue;
      }
      if (option.getKey().equals("expireAfterWrite")
          && !EternalExpiryPolicy.factoryOf().equals(config.getExpiryPolicyFactory())) {
        continue;
      }
      merged.setOption(option.getKey(), option.getValue());
    }
    BackendOptions backendOptions = resolved.backendOptions().get(merged.getBackend());
    if (backendOptions != null
        && merged.getBackendOptions().stream().noneMatch(o -> o.getClass() == backendOptions.getClass())) {
      merged.addBackendOptions(backendOptions);
    }
    return merged;
  }

  /**
   * The defaults for one cache.
   *
   * @param backend the default backend, if set
   * @param core the other core options
   * @param backendOptions the parsed options of each backend named
   */
  private record Resolved(
      @Nullable String backend, Map<String, String> core, Map<String, BackendOptions> backendOptions) {}

  private Resolved resolve(String cacheName) {
    String backend = null;
    Map<String, String> core = new LinkedHashMap<>();
    Map<String, Map<String, String>> byBackend = new TreeMap<>();
    CachetConfiguration<Object, Object> validation = new CachetConfiguration<>();
    for (Map.Entry<String, String> entry : options.entrySet()) {
      String option = entry.getKey();
      String value = entry.getValue().replace(CACHE_NAME, cacheName);
      int dot = option.indexOf('.');
      if (dot < 0) {
        try {
          validation.setOption(option, value);
        } catch (IllegalArgumentException e) {
          throw new CacheException(PREFIX + option + " in " + source + ": " + e.getMessage(), e);
        }
        if (option.equals("backend")) {
          backend = value;
        } else {
          core.put(option, value);
        }
        continue;
      }
      String backendName = option.substring(0, dot);
      if (!backends.containsKey(backendName)) {
        throw new CacheException(
            "unknown default cache option '" + PREFIX + option + "' in " + source + "; known: "
                + PREFIX + "<option> for " + new TreeSet<>(CachetConfiguration.OPTION_NAMES) + ", "
                + PREFIX + "<backend>.<option> for the backends " + new TreeSet<>(backends.keySet()));
      }
      byBackend.computeIfAbsent(backendName, b -> new LinkedHashMap<>()).put(option.substring(dot + 1), value);
    }
    if (backend != null && !backends.containsKey(backend)) {
      throw new CacheException(
          PREFIX + "backend in " + source + ": no backend named '" + backend + "' on the class path; found "
              + new TreeSet<>(backends.keySet()));
    }
    Map<String, BackendOptions> parsed = new TreeMap<>();
    for (Map.Entry<String, Map<String, String>> entry : byBackend.entrySet()) {
      Optional<BackendOptions> backendOptions;
      try {
        backendOptions = backends.get(entry.getKey()).parseOptions(entry.getValue());
      } catch (IllegalArgumentException e) {
        throw new CacheException(PREFIX + entry.getKey() + ".* in " + source + ": " + e.getMessage(), e);
      }
      backendOptions.ifPresent(o -> parsed.put(entry.getKey(), o));
    }
    return new Resolved(backend, core, parsed);
  }

  @Override
  public String toString() {
    // Option names only: values may hold credentials.
    return "CacheDefaults" + options.keySet();
  }
}
