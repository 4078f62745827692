package io.cachet;

import io.cachet.codec.Codecs;
import io.cachet.internal.Durations;
import io.cachet.internal.OptionValues;
import java.util.Arrays;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Sets the core options of a {@link CacheConfig.Builder} from their text form, as found in a
 * properties file; the names are {@link CacheConfig#OPTION_NAMES}. The builder's
 * {@code option(...)} methods check their arguments and come here.
 */
final class CacheConfigProperties {

  private CacheConfigProperties() {}

  /**
   * Sets {@code option} to the trimmed {@code value} on {@code builder}, loading type and codec
   * classes through {@code classLoader}, and returns the builder to continue with (a new one when
   * a type changes).
   */
  static CacheConfig.Builder<?, ?> set(
      CacheConfig.Builder<?, ?> builder, String option, String value, ClassLoader classLoader) {
    switch (option) {
      case "keyType" -> {
        return builder.keyType(OptionValues.parseClass(option, value, classLoader));
      }
      case "valueType" -> {
        return builder.valueType(OptionValues.parseClass(option, value, classLoader));
      }
      case "keyCodec" -> {
        return builder.keyCodec(Codecs.named(option, value, classLoader));
      }
      case "valueCodec" -> {
        return builder.valueCodec(Codecs.named(option, value, classLoader));
      }
      default -> {
        return builder.option(option, value);
      }
    }
  }

  /**
   * Sets {@code option}, which must not change a type, to the trimmed {@code value} on
   * {@code builder} of the cache named {@code cacheName}.
   */
  static void setUntyped(CacheConfig.Builder<?, ?> builder, String cacheName, String option, String value) {
    switch (option) {
      case "backend" -> builder.backend(value);
      case "maximumSize" -> builder.maximumSize(OptionValues.parseLong(option, value));
      case "evictionPolicy" -> builder.evictionPolicy(parsePolicy(value));
      case "expireAfterWrite" -> builder.expireAfterWrite(Durations.parse(option, value));
      case "expireAfterAccess" -> builder.expireAfterAccess(Durations.parse(option, value));
      case "refreshAfterWrite" -> builder.refreshAfterWrite(Durations.parse(option, value));
      case "perEntryTtl" -> builder.perEntryTtl(OptionValues.parseBoolean(option, value));
      case "recordStats" -> builder.recordStats(OptionValues.parseBoolean(option, value));
      case "keyType", "valueType", "keyCodec", "valueCodec" ->
          throw new IllegalArgumentException(
              option + " changes the cache's types; set it with option(name, value, classLoader)"
                  + " or " + option + "(...)");
      default ->
          throw new IllegalArgumentException(
              "unknown option '" + option + "' for cache '" + cacheName + "'; known options: "
                  + new TreeSet<>(CacheConfig.OPTION_NAMES));
    }
  }

  private static EvictionPolicy parsePolicy(String v) {
    String normalized = v.toUpperCase(Locale.ROOT).replace('-', '_');
    for (EvictionPolicy policy : EvictionPolicy.values()) {
      if (policy.name().equals(normalized)) {
        return policy;
      }
    }
    throw new IllegalArgumentException(
        "evictionPolicy must be one of " + Arrays.toString(EvictionPolicy.values())
            + ", was '" + v + "'");
  }
}
