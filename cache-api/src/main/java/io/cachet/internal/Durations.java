package io.cachet.internal;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations written in configuration files. */
public final class Durations {

  private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private Durations() {}

  /**
   * Parses {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} or ISO-8601 such as
   * {@code PT5M}.
   *
   * @throws IllegalArgumentException naming {@code option} if the text is not a duration
   */
  public static Duration parse(String option, String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    Matcher m = SIMPLE.matcher(t);
    try {
      if (m.matches()) {
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        };
      }
      if (t.startsWith("p")) {
        return Duration.parse(text.trim());
      }
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      throw invalid(option, text, e);
    }
    throw invalid(option, text, null);
  }

  private static IllegalArgumentException invalid(
      String option, String text, @org.jspecify.annotations.Nullable Throwable cause) {
    return new IllegalArgumentException(
        option + " must be a duration such as 500ms, 30s, 5m, 2h, 1d or PT5M; was '" + text + "'",
        cause);
  }
}
