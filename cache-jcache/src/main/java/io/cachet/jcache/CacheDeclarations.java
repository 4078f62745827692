package io.cachet.jcache;

import io.cachet.BackendOptions;
import io.cachet.CacheConfig;
import io.cachet.internal.CacheProperties;
import io.cachet.spi.CacheBackendProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.cache.CacheException;
import javax.cache.expiry.EternalExpiryPolicy;
import org.jspecify.annotations.Nullable;

/**
 * Caches declared for a JCache cache manager, in the format of
 * {@link io.cachet.CacheManager#fromProperties(java.util.Properties)}:
 *
 * <pre>
 * cache.users.maximumSize=10000
 * cache.users.evictionPolicy=LRU
 * cache.users.expireAfterWrite=5m
 * cache.users.jcache.keyType=java.lang.String
 * cache.sessions.backend=redis
 * cache.sessions.redis.address=127.0.0.1:6379
 * </pre>
 *
 * <p>Core options are those of {@link CacheConfig#OPTION_NAMES}; {@code <backend>.<option>} lines
 * go to that backend; {@code jcache.<option>} lines set JCache settings of the declared cache:
 * {@code keyType}, {@code valueType}, {@code storeByValue}, {@code statisticsEnabled},
 * {@code managementEnabled}. Keys that do not start with {@code cache.} are ignored. Anything
 * unknown or invalid is reported as a {@link CacheException} naming the key and the source.
 */
final class CacheDeclarations {

  /** The JCache settings a declaration may carry after {@code jcache.}. */
  static final Set<String> JCACHE_OPTIONS =
      Set.of("keyType", "valueType", "storeByValue", "statisticsEnabled", "managementEnabled");

  /** {@code cache.<name>.jcache.<setting>}: a JCache setting of the cache {@code <name>}. */
  private static final Pattern JCACHE_SETTING = Pattern.compile("cache\\.(.+)\\.jcache\\.([^.]+)");

  private CacheDeclarations() {}

  /** Returns whether {@code uri} names a configuration file rather than just a manager. */
  static boolean namesFile(URI uri) {
    String scheme = uri.getScheme();
    if (scheme == null) {
      return false;
    }
    return switch (scheme.toLowerCase(Locale.ROOT)) {
      case "classpath", "file", "jar" -> true;
      default -> false;
    };
  }

  /**
   * Reads the properties file {@code uri} names: {@code classpath:path} (through
   * {@code classLoader}), or a {@code file:} or {@code jar:} URL.
   *
   * @throws CacheException naming the URI if it cannot be read
   */
  static Properties read(URI uri, ClassLoader classLoader) {
    Properties properties = new Properties();
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    try (InputStream in = open(uri, scheme, classLoader)) {
      properties.load(in);
    } catch (IOException e) {
      throw new CacheException("cannot read the cache configuration " + uri + ": " + e, e);
    }
    return properties;
  }

  private static InputStream open(URI uri, String scheme, ClassLoader classLoader) throws IOException {
    if (scheme.equals("classpath")) {
      String path = uri.getSchemeSpecificPart();
      while (path.startsWith("/")) {
        path = path.substring(1);
      }
      InputStream in = classLoader.getResourceAsStream(path);
      if (in == null) {
        throw new CacheException(
            "the cache configuration " + uri + " was not found: no resource '" + path
                + "' on the class path of " + classLoader);
      }
      return in;
    }
    try {
      return uri.toURL().openStream();
    } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
      throw new CacheException("the cache configuration " + uri + " was not found", e);
    } catch (IllegalArgumentException e) {
      throw new CacheException("the cache configuration URI " + uri + " is not a readable URL", e);
    }
  }

  /**
   * Parses the declarations in {@code properties}; {@code source} names them in error messages.
   * The {@code cache.<name>.jcache.<setting>} lines are taken out first; the rest is read as
   * {@link io.cachet.CacheManager#fromProperties(Properties)} reads it ({@link CacheProperties}).
   *
   * @throws CacheException naming the key if an option is unknown or invalid
   */
  static Map<String, CachetConfiguration<Object, Object>> parse(
      Properties properties, String source, ClassLoader classLoader,
      Map<String, CacheBackendProvider> backends) {
    try {
      CacheProperties.requireStringValues(properties, source);
    } catch (IllegalArgumentException e) {
      throw new CacheException(e.getMessage(), e);
    }
    Properties cachet = new Properties();
    Map<String, Map<String, String>> jcache = new TreeMap<>();
    for (String key : new TreeSet<>(properties.stringPropertyNames())) {
      String value = properties.getProperty(key);
      Matcher setting = JCACHE_SETTING.matcher(key);
      if (!setting.matches()) {
        cachet.setProperty(key, value);
        continue;
      }
      String option = setting.group(2);
      if (!JCACHE_OPTIONS.contains(option)) {
        throw new CacheException(
            "unknown JCache option '" + key + "' in " + source + "; known: " + new TreeSet<>(JCACHE_OPTIONS));
      }
      jcache.computeIfAbsent(setting.group(1), n -> new LinkedHashMap<>()).put(option, value);
    }
    Map<String, CacheProperties.Declaration> parsed;
    try {
      parsed = CacheProperties.parse(cachet, source, backends.keySet());
    } catch (IllegalArgumentException e) {
      throw new CacheException(
          e.getMessage() + "; JCache settings: jcache." + new TreeSet<>(JCACHE_OPTIONS), e);
    }
    Set<String> names = new TreeSet<>(parsed.keySet());
    names.addAll(jcache.keySet());
    Map<String, CachetConfiguration<Object, Object>> declared = new LinkedHashMap<>();
    for (String name : names) {
      CacheProperties.Declaration declaration =
          parsed.getOrDefault(name, new CacheProperties.Declaration(Map.of(), Map.of()));
      CachetConfiguration<Object, Object> config = new CachetConfiguration<>();
      for (Map.Entry<String, String> option : declaration.options().entrySet()) {
        try {
          config.setOption(option.getKey(), option.getValue());
        } catch (IllegalArgumentException e) {
          throw new CacheException(
              "cache." + name + "." + option.getKey() + " in " + source + ": " + e.getMessage(), e);
        }
      }
      for (Map.Entry<String, String> option : jcache.getOrDefault(name, Map.of()).entrySet()) {
        applyJCacheOption(config, name, option.getKey(), option.getValue().trim(), source, classLoader);
      }
      for (Map.Entry<String, Map<String, String>> options : declaration.backendOptions().entrySet()) {
        if (!options.getKey().equals(config.getBackend())) {
          throw new CacheException(
              "cache." + name + "." + options.getKey() + ".* in " + source + ": cache '" + name
                  + "' uses backend '" + config.getBackend() + "', not '" + options.getKey() + "'");
        }
        Optional<BackendOptions> backendOptions;
        try {
          backendOptions = backends.get(options.getKey()).parseOptions(options.getValue());
        } catch (IllegalArgumentException e) {
          throw new CacheException(
              "cache." + name + "." + options.getKey() + " in " + source + ": " + e.getMessage(), e);
        }
        backendOptions.ifPresent(config::addBackendOptions);
      }
      declared.put(name, config);
    }
    return declared;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void applyJCacheOption(
      CachetConfiguration<Object, Object> config, String name, String option, String value,
      String source, ClassLoader classLoader) {
    String key = "cache." + name + ".jcache." + option;
    switch (option) {
      case "keyType" -> ((CachetConfiguration) config).setTypes(type(key, value, source, classLoader), config.getValueType());
      case "valueType" -> ((CachetConfiguration) config).setTypes(config.getKeyType(), type(key, value, source, classLoader));
      case "storeByValue" -> config.setStoreByValue(bool(key, value, source));
      case "statisticsEnabled" -> config.setStatisticsEnabled(bool(key, value, source));
      case "managementEnabled" -> config.setManagementEnabled(bool(key, value, source));
      default -> throw new IllegalStateException(option);
    }
  }

  private static Class<?> type(String key, String value, String source, ClassLoader classLoader) {
    try {
      return Class.forName(value, false, classLoader);
    } catch (ClassNotFoundException e) {
      throw new CacheException(key + " in " + source + ": class '" + value + "' not found", e);
    }
  }

  private static boolean bool(String key, String value, String source) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new CacheException(key + " in " + source + " must be true or false, was '" + value + "'");
    };
  }

  /**
   * Returns {@code requested} completed with a declaration's Cachet settings: its backend, options
   * and backend options where {@code requested} (if it is a {@code CachetConfiguration}) did not
   * set them, and its {@code expireAfterWrite} when {@code requested} keeps the default eternal
   * expiry. JCache settings of the declaration ({@code jcache.*}) apply only to caches created
   * from the declaration itself.
   */
  static <K, V> CachetConfiguration<K, V> merge(
      CachetConfiguration<K, V> requested, boolean requestedIsCachet,
      @Nullable CachetConfiguration<Object, Object> declaration) {
    if (declaration == null) {
      return requested;
    }
    CachetConfiguration<K, V> merged = new CachetConfiguration<>(requested);
    Map<String, String> requestedOptions = requestedIsCachet ? requested.getOptions() : Map.of();
    if (!requestedIsCachet || requested.getBackend().equals(CacheConfig.DEFAULT_BACKEND)) {
      merged.setBackend(declaration.getBackend());
    }
    for (Map.Entry<String, String> option : declaration.getOptions().entrySet()) {
      if (requestedOptions.containsKey(option.getKey())) {
        continue;
      }
      if (option.getKey().equals("expireAfterWrite")
          && !EternalExpiryPolicy.factoryOf().equals(requested.getExpiryPolicyFactory())) {
        continue;
      }
      merged.setOption(option.getKey(), option.getValue());
    }
    if (requested.getBackendOptions().isEmpty()) {
      declaration.getBackendOptions().forEach(merged::addBackendOptions);
    }
    return merged;
  }
}
