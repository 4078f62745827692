package io.cachet.examples.cluster;

import io.cachet.replicated.ReplicationOptions;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Parsing of option values shared by the node and the launcher: each parser takes the text from
 * the command line or the environment and rejects an invalid value with an
 * {@link IllegalArgumentException} naming both the option and its environment variable.
 */
final class Options {

  private Options() {}

  /** A whole number from {@code min} to {@code max}; {@code _} separators are allowed. */
  static long number(String option, String env, @Nullable String value, long min, long max) {
    String text = value == null ? "" : value.trim().replace("_", "");
    long parsed;
    try {
      parsed = Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw invalid(option, env, "must be a whole number from " + min + " to " + max, value);
    }
    if (parsed < min || parsed > max) {
      throw invalid(option, env, "must be a whole number from " + min + " to " + max, value);
    }
    return parsed;
  }

  /** A whole number of seconds from {@code min} to {@code max}. */
  static Duration seconds(String option, String env, @Nullable String value, long min, long max) {
    return Duration.ofSeconds(number(option, env, value, min, max));
  }

  /** A port, 0 allowed when {@code zeroAllowed} (a free port). */
  static int port(String option, String env, @Nullable String value, boolean zeroAllowed) {
    return (int) number(option, env, value, zeroAllowed ? 0 : 1, 65_535);
  }

  /** A host name or IP address: non-blank, no whitespace. */
  static String host(String option, String env, @Nullable String value) {
    if (value == null || value.isBlank() || value.trim().chars().anyMatch(Character::isWhitespace)) {
      throw invalid(option, env, "must be a host name or IP address", value);
    }
    return value.trim();
  }

  /** Kafka bootstrap servers, validated as the backend does. */
  static String bootstrapServers(String option, String env, @Nullable String value) {
    try {
      return ReplicationOptions.builder().bootstrapServers(value == null ? "" : value.trim()).build()
          .bootstrapServers();
    } catch (IllegalArgumentException | NullPointerException e) {
      throw invalid(option, env, "must be host:port[,host:port...] (e.g. 127.0.0.1:9092)", value);
    }
  }

  /** A cache name: 1-200 of letters, digits, '.', '_' and '-' (it names the Kafka topic). */
  static String cacheName(String option, String env, @Nullable String value) {
    String text = value == null ? "" : value.trim();
    if (!text.matches("[a-zA-Z0-9._-]{1,200}")) {
      throw invalid(option, env, "must be 1-200 of [a-zA-Z0-9._-] (it names the Kafka topic cachet-<name>)", value);
    }
    return text;
  }

  /** A node id: 1-64 of letters, digits, '.', '_' and '-'. */
  static String nodeId(String option, String env, @Nullable String value) {
    String text = value == null ? "" : value.trim();
    if (!text.matches("[a-zA-Z0-9._-]{1,64}")) {
      throw invalid(option, env, "must be 1-64 of [a-zA-Z0-9._-]", value);
    }
    return text;
  }

  static IllegalArgumentException invalid(String option, String env, String rule, @Nullable String value) {
    return new IllegalArgumentException(option + " (" + env + ") " + rule + ", was '" + value + "'");
  }
}
