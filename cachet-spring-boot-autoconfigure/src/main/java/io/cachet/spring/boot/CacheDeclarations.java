package io.cachet.spring.boot;

import io.cachet.CacheConfig;
import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import io.cachet.spi.CacheBackendProvider;
import java.beans.PropertyDescriptor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.core.env.Environment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Turns the caches declared under {@code cachet.caches} into {@link CacheConfig}s, failing at
 * start-up with an {@link InvalidConfigurationPropertyValueException} that names the property.
 *
 * <p>A Redis cache without a {@code redis.key-prefix} gets its name and {@code ::} as its prefix, as
 * with Spring Data Redis, so that caches keep their keys apart and clearing one deletes only its
 * keys; an explicit prefix, even an empty one, is kept.
 *
 * <p>Types follow what Spring stores: a local cache without a declared key or value type holds
 * {@code Object}s; a remote cache keeps {@code String} keys (Spring keys are converted) and needs a
 * value codec for anything but strings. Backend options are passed to the backend's own parser
 * under their camel-case names, so every option of a Cachet properties file works here too.
 */
final class CacheDeclarations {

  static final String PREFIX = "cachet.caches.";

  private static final String CACHES = "cachet.caches";

  /** The options of a cache under {@code cachet.caches.<name>.}, in their kebab-case form. */
  private static final Set<String> KNOWN_OPTIONS = knownOptions();

  /** What follows the cache's name in the Redis key prefix of a cache that sets none. */
  static final String DEFAULT_KEY_PREFIX_SEPARATOR = "::";

  private static final String REDIS = "redis";
  private static final String KEY_PREFIX = "keyPrefix";

  /** A cache to create, and whether Spring may store null in it. */
  record Declared(CacheConfig<?, ?> config, boolean allowNullValues) {}

  /** Backend option names, for matching the lower-case forms that environment variables give. */
  private static final Map<String, String> OPTION_HOLDERS =
      Map.of(
          "redis", "io.cachet.redis.RedisOptions",
          "replicated-kafka", "io.cachet.replicated.ReplicationOptions");

  private final ClassLoader classLoader;
  private final Map<String, CacheBackendProvider> providers = new LinkedHashMap<>();

  CacheDeclarations(ClassLoader classLoader) {
    this.classLoader = classLoader;
    for (CacheBackendProvider provider : ServiceLoader.load(CacheBackendProvider.class, classLoader)) {
      providers.putIfAbsent(provider.name(), provider);
    }
  }

  /**
   * Fails with an {@link InvalidConfigurationPropertyValueException} naming the first property
   * under {@code cachet.caches.<name>} that is no option of a cache, such as a misspelled
   * {@code maximum-sise}; Boot's binding would ignore it, leaving the option at its default (or the
   * cache undeclared). Only this subtree is checked: other properties may start with
   * {@code cachet.} (the test kit's, or those of Cachet's JCache provider).
   */
  static void rejectUnknownOptions(Environment environment) {
    try {
      Binder.get(environment).bind(
          CACHES, Bindable.mapOf(String.class, CachetProperties.CacheSpec.class),
          new NoUnboundElementsBindHandler(BindHandler.DEFAULT));
    } catch (BindException e) {
      if (!(e.getCause() instanceof UnboundConfigurationPropertiesException unbound)) {
        throw e;
      }
      List<ConfigurationProperty> unknown = new ArrayList<>(unbound.getUnboundProperties());
      unknown.removeIf(CacheDeclarations::underscoredOption);
      if (unknown.isEmpty()) {
        return;
      }
      ConfigurationProperty first = unknown.get(0);
      ConfigurationPropertyName name = first.getName();
      StringBuilder option = new StringBuilder();
      for (int i = 3; i < name.getNumberOfElements(); i++) {
        option.append(option.isEmpty() ? "" : ".").append(name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL));
      }
      String cache = name.getNumberOfElements() > 2 ? name.getElement(2, ConfigurationPropertyName.Form.ORIGINAL) : "";
      String others = unknown.size() == 1 ? ""
          : " (also unknown: " + unknown.subList(1, unknown.size()).stream().map(p -> p.getName().toString()).toList() + ")";
      throw new InvalidConfigurationPropertyValueException(
          name.toString(), first.getValue(),
          "unknown option '" + option + "' of cache '" + cache + "'; known options: " + KNOWN_OPTIONS + others);
    }
  }

  /**
   * Whether {@code property} is an environment variable that spells a known option with
   * underscores between its words ({@code CACHET_CACHES_BOOKS_MAXIMUM_SIZE}): Boot binds it to the
   * option, but lists it as unbound under the dotted name it maps the variable to.
   */
  private static boolean underscoredOption(ConfigurationProperty property) {
    if (!(property.getSource().getUnderlyingSource() instanceof SystemEnvironmentPropertySource)) {
      return false;
    }
    ConfigurationPropertyName name = property.getName();
    StringBuilder option = new StringBuilder();
    for (int i = 3; i < name.getNumberOfElements(); i++) {
      option.append(option.isEmpty() ? "" : "-").append(name.getElement(i, ConfigurationPropertyName.Form.DASHED));
    }
    return name.getNumberOfElements() > 4 && KNOWN_OPTIONS.contains(option.toString());
  }

  List<Declared> declare(CachetProperties properties) {
    List<Declared> declared = new ArrayList<>();
    properties.getCaches().forEach((name, spec) -> declared.add(declare(name, spec, properties)));
    return declared;
  }

  /** Returns the configuration of a cache created on first use by a dynamic cache manager. */
  static CacheConfig<?, ?> dynamic(String name) {
    return CacheConfig.builder(name).keyType(Object.class).valueType(Object.class).build();
  }

  private Declared declare(String name, CachetProperties.CacheSpec spec, CachetProperties properties) {
    String at = PREFIX + name + ".";
    CacheConfig.Builder<?, ?> b;
    try {
      b = CacheConfig.builder(name);
    } catch (IllegalArgumentException e) {
      throw new InvalidConfigurationPropertyValueException("cachet.caches", name, e.getMessage());
    }
    String backend = spec.getBackend() == null ? CacheConfig.DEFAULT_BACKEND : spec.getBackend().trim();
    if (spec.getBackend() != null) {
      if (!providers.containsKey(backend)) {
        throw new InvalidConfigurationPropertyValueException(
            at + "backend", spec.getBackend(),
            "backend '" + backend + "' is not on the class path (available: " + new TreeSet<>(providers.keySet())
                + ")" + moduleHint(backend));
      }
      b.backend(backend);
    }
    CacheConfig.Builder<?, ?> builder = b;
    set(at + "maximum-size", spec.getMaximumSize(), v -> builder.maximumSize(v));
    set(at + "eviction-policy", spec.getEvictionPolicy(), v -> builder.evictionPolicy(v));
    set(at + "expire-after-write", spec.getExpireAfterWrite(), v -> builder.expireAfterWrite(v));
    set(at + "expire-after-access", spec.getExpireAfterAccess(), v -> builder.expireAfterAccess(v));
    set(at + "refresh-after-write", spec.getRefreshAfterWrite(), v -> builder.refreshAfterWrite(v));
    set(at + "per-entry-ttl", spec.getPerEntryTtl(), v -> builder.perEntryTtl(v));
    set(at + "record-stats", spec.getRecordStats(), v -> builder.recordStats(v));

    boolean local = backend.equals(CacheConfig.DEFAULT_BACKEND);
    b = types(at, spec, b, local, backend);

    Map<String, String> backendOptions = backendOptions(spec, backend, at);
    if (backend.equals(REDIS) && !backendOptions.containsKey(KEY_PREFIX)) {
      // As Spring Data Redis's cache manager: without a prefix, caches would share their keys, and
      // clearing one (@CacheEvict(allEntries = true)) would empty the whole database.
      backendOptions.put(KEY_PREFIX, name + DEFAULT_KEY_PREFIX_SEPARATOR);
    }
    if (!backendOptions.isEmpty()) {
      CacheBackendProvider provider = providers.get(backend);
      if (provider == null) {
        throw new InvalidConfigurationPropertyValueException(at + "backend", backend, "no such backend on the class path");
      }
      for (Map.Entry<String, String> option : backendOptions.entrySet()) {
        try {
          provider.parseOptions(Map.of(option.getKey(), option.getValue()));
        } catch (IllegalArgumentException e) {
          throw new InvalidConfigurationPropertyValueException(
              at + backend + "." + kebab(option.getKey()), option.getValue(), e.getMessage());
        }
      }
      try {
        provider.parseOptions(backendOptions).ifPresent(b::backendOptions);
      } catch (IllegalArgumentException e) {
        throw new InvalidConfigurationPropertyValueException(at + backend, backendOptions.keySet(), e.getMessage());
      }
    }
    boolean allowNull = spec.getAllowNullValues() != null ? spec.getAllowNullValues() : properties.isAllowNullValues();
    return new Declared(built(at, b), allowNull);
  }

  /**
   * Builds the cache's config; options that are each valid but do not go together (say
   * {@code refresh-after-write} not under {@code expire-after-write}) fail naming the cache's
   * properties, so Boot's failure report points at them.
   */
  private static CacheConfig<?, ?> built(String at, CacheConfig.Builder<?, ?> b) {
    try {
      return b.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      String name = at.endsWith(".") ? at.substring(0, at.length() - 1) : at;
      throw new InvalidConfigurationPropertyValueException(name, "(its options)", e.getMessage());
    }
  }

  private CacheConfig.Builder<?, ?> types(
      String at, CachetProperties.CacheSpec spec, CacheConfig.Builder<?, ?> b, boolean local, String backend) {
    if (spec.getKeyCodec() != null) {
      b = option(b, at + "key-codec", "keyCodec", spec.getKeyCodec());
    }
    if (spec.getKeyType() != null) {
      b = option(b, at + "key-type", "keyType", spec.getKeyType());
    } else if (local && spec.getKeyCodec() == null) {
      b = b.keyType(Object.class);
    }
    if (spec.getValueCodec() != null) {
      b = option(b, at + "value-codec", "valueCodec", spec.getValueCodec());
    }
    if (spec.getValueType() != null) {
      b = option(b, at + "value-type", "valueType", spec.getValueType());
      Class<?> type = built(at, b).valueType();
      if (!local && spec.getValueCodec() == null && type != String.class && type != byte[].class) {
        throw new InvalidConfigurationPropertyValueException(
            at + "value-type", spec.getValueType(),
            "the " + backend + " backend stores bytes: set value-codec instead, such as json:" + type.getName());
      }
    } else if (local && spec.getValueCodec() == null) {
      b = b.valueType(Object.class);
    }
    return b;
  }

  private CacheConfig.Builder<?, ?> option(CacheConfig.Builder<?, ?> b, String property, String option, String value) {
    try {
      if (option.endsWith("Codec")) {
        Codec<?> codec = Codecs.named(option, value.trim(), classLoader);
        return option.equals("keyCodec") ? b.keyCodec(codec) : b.valueCodec(codec);
      }
      return b.option(option, value, classLoader);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
    }
  }

  private Map<String, String> backendOptions(CachetProperties.CacheSpec spec, String backend, String at) {
    Map<String, String> chosen = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, String>> entry :
        Map.of("redis", spec.getRedis(), "replicated-kafka", spec.getReplicatedKafka()).entrySet()) {
      if (entry.getValue().isEmpty()) {
        continue;
      }
      if (!entry.getKey().equals(backend)) {
        String first = entry.getValue().keySet().iterator().next();
        throw new InvalidConfigurationPropertyValueException(
            at + entry.getKey() + "." + first, entry.getValue().get(first),
            "the cache uses backend '" + backend + "', not '" + entry.getKey() + "'; set " + at + "backend");
      }
      Set<String> known = knownOptions(entry.getKey());
      entry.getValue().forEach((key, value) -> chosen.put(camel(key, known), value));
    }
    return chosen;
  }

  @SuppressWarnings("unchecked")
  private Set<String> knownOptions(String backend) {
    String holder = OPTION_HOLDERS.get(backend);
    if (holder == null) {
      return Set.of();
    }
    try {
      return (Set<String>) Class.forName(holder, false, classLoader).getField("OPTION_NAMES").get(null);
    } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
      return Set.of();
    }
  }

  /** Returns the camel-case option for {@code key-prefix}, {@code keyPrefix} or {@code keyprefix}. */
  static String camel(String key, Set<String> known) {
    String squashed = key.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    for (String option : known) {
      if (option.toLowerCase(Locale.ROOT).equals(squashed)) {
        return option;
      }
    }
    StringBuilder out = new StringBuilder();
    boolean upper = false;
    for (char c : key.toCharArray()) {
      if (c == '-' || c == '_') {
        upper = true;
      } else {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return out.toString();
  }

  private static Set<String> knownOptions() {
    Set<String> options = new TreeSet<>();
    for (PropertyDescriptor property : BeanUtils.getPropertyDescriptors(CachetProperties.CacheSpec.class)) {
      if (property.getWriteMethod() != null) {
        options.add(kebab(property.getName()));
      }
    }
    return Collections.unmodifiableSet(options);
  }

  static String kebab(String camel) {
    StringBuilder out = new StringBuilder();
    for (char c : camel.toCharArray()) {
      if (Character.isUpperCase(c)) {
        out.append('-').append(Character.toLowerCase(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static String moduleHint(String backend) {
    return switch (backend) {
      case "redis" -> "; add io.cachet:cache-redis";
      case "replicated-kafka" -> "; add io.cachet:cache-replicated-kafka";
      case "local" -> "; add io.cachet:cache-local";
      default -> "";
    };
  }

  private interface Setter<T> {
    void set(T value);
  }

  private static <T> void set(String property, @Nullable T value, Setter<T> setter) {
    if (value == null) {
      return;
    }
    try {
      setter.set(value);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
    }
  }
}
