package io.cachet.internal;

import io.cachet.CacheConfig;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Groups the {@code cache.<name>.<option>=value} declarations of a properties file by cache, for
 * {@link io.cachet.CacheManager#fromProperties(Properties)} and the JCache provider. Not API.
 *
 * <p>A cache name may contain dots; the option is recognised as the last segment (one of
 * {@link CacheConfig#OPTION_NAMES}) or as {@code <backend>.<option>}, the rightmost backend name
 * in the key when it holds several (so {@code cache.eu.local.redis.address} is the redis option
 * {@code address} of cache {@code eu.local}, on every run). A cache whose name ends with a backend's
 * name must set its {@code backend}: otherwise {@code cache.orders.redis.maximumSize}, a core option
 * written under a backend, would declare a cache named {@code orders.redis}, and is refused. Keys
 * that do not start with {@code cache.} are ignored.
 */
public final class CacheProperties {

  private static final String PREFIX = "cache.";

  /**
   * One cache's declared options, as written (values untrimmed).
   *
   * @param options core options by name, in key order
   * @param backendOptions options by backend name (sorted), each in key order
   */
  public record Declaration(Map<String, String> options, Map<String, Map<String, String>> backendOptions) {}

  private CacheProperties() {}

  /**
   * Refuses a {@code cache.}* entry whose value is not a string ({@code put(key, 500)} instead of
   * {@code setProperty}), in {@code properties} or its defaults: {@link Properties} would leave it
   * out of its property names, and the declaration would be dropped without a word.
   *
   * @throws IllegalArgumentException naming the key and the value's type (not the value, which
   *     may be a secret)
   */
  public static void requireStringValues(Properties properties, String source) {
    for (Map.Entry<Object, Object> entry : properties.entrySet()) { // its own, also over a default
      if (entry.getKey() instanceof String key && key.startsWith(PREFIX) && !(entry.getValue() instanceof String)) {
        throw notAString(key, source, "a " + entry.getValue().getClass().getName());
      }
    }
    Set<Object> names = new HashSet<>();
    try {
      for (Enumeration<?> all = properties.propertyNames(); all.hasMoreElements(); ) {
        names.add(all.nextElement()); // with the defaults' keys
      }
    } catch (ClassCastException e) {
      // A key that is not a string, in the defaults: not a declaration.
    }
    for (Object name : names) {
      if (name instanceof String key && key.startsWith(PREFIX) && properties.getProperty(key) == null) {
        throw notAString(key, source, "in its defaults");
      }
    }
  }

  private static IllegalArgumentException notAString(String key, String source, String what) {
    return new IllegalArgumentException("property '" + key + "' in " + source + " has a value that is not a string ("
        + what + "): set it with setProperty, as a string");
  }

  /**
   * Returns the declarations in {@code properties} by cache name, sorted by name; {@code source}
   * names the properties in error messages, {@code backends} are the backend names known.
   *
   * @throws IllegalArgumentException naming the key if it is neither a core nor a backend option
   */
  public static SortedMap<String, Declaration> parse(
      Properties properties, String source, Set<String> backends) {
    requireStringValues(properties, source);
    Map<String, Map<String, String>> core = new TreeMap<>();
    Map<String, Map<String, Map<String, String>>> backend = new TreeMap<>();
    for (String key : new TreeSet<>(properties.stringPropertyNames())) {
      if (!key.startsWith(PREFIX)) {
        continue;
      }
      String value = properties.getProperty(key);
      String rest = key.substring(PREFIX.length());
      String matched = null;
      for (String option : CacheConfig.OPTION_NAMES) {
        if (rest.endsWith("." + option) && rest.length() > option.length() + 1) {
          String name = rest.substring(0, rest.length() - option.length() - 1);
          core.computeIfAbsent(name, n -> new LinkedHashMap<>()).put(option, value);
          matched = option;
          break;
        }
      }
      if (matched != null) {
        continue;
      }
      String chosen = null;
      int chosenAt = -1;
      for (String providerName : backends) {
        int at = rest.lastIndexOf("." + providerName + ".");
        if (at > chosenAt) {
          chosen = providerName;
          chosenAt = at;
        }
      }
      if (chosen != null && chosenAt > 0) {
        String name = rest.substring(0, chosenAt);
        String option = rest.substring(chosenAt + chosen.length() + 2);
        backend
            .computeIfAbsent(name, n -> new TreeMap<>())
            .computeIfAbsent(chosen, p -> new LinkedHashMap<>())
            .put(option, value);
        matched = option;
      }
      if (matched == null) {
        throw new IllegalArgumentException(
            "unknown cache option '" + key + "' in " + source + "; known options: "
                + new TreeSet<>(CacheConfig.OPTION_NAMES) + " or <backend>.<option> for backends "
                + new TreeSet<>(backends));
      }
    }
    // A cache whose name ends with a backend's name and that does not choose its backend is most
    // likely a core option written under a backend (cache.orders.redis.maximumSize): refused, as
    // it would otherwise declare a cache of the default backend named orders.redis.
    core.forEach((name, options) -> {
      int dot = name.lastIndexOf('.');
      if (dot > 0 && backends.contains(name.substring(dot + 1)) && !options.containsKey("backend")) {
        String option = options.keySet().iterator().next();
        throw new IllegalArgumentException(
            "'cache." + name + "." + option + "' in " + source + ": " + option + " is a core option, not a "
                + name.substring(dot + 1) + " option; write it as cache." + name.substring(0, dot) + "." + option
                + " (or, for a cache named '" + name + "', set cache." + name + ".backend)");
      }
    });
    Set<String> names = new TreeSet<>(core.keySet());
    names.addAll(backend.keySet());
    SortedMap<String, Declaration> declared = new TreeMap<>();
    for (String name : names) {
      declared.put(
          name, new Declaration(core.getOrDefault(name, Map.of()), backend.getOrDefault(name, Map.of())));
    }
    return declared;
  }
}
