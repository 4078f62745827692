package io.cachet.internal;

import java.util.Locale;

/** Parses the numbers and booleans written in configuration files, naming the option on error. */
public final class OptionValues {

  private OptionValues() {}

  /**
   * Parses a whole number; underscores are allowed as separators ({@code 10_000}).
   *
   * @throws IllegalArgumentException naming {@code option} and the text
   */
  public static long parseLong(String option, String text) {
    try {
      return Long.parseLong(text.trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a whole number, was '" + text + "'", e);
    }
  }

  /**
   * Parses a whole number that fits an {@code int}; underscores are allowed as separators.
   *
   * @throws IllegalArgumentException naming {@code option} and the text
   */
  public static int parseInt(String option, String text) {
    try {
      return Integer.parseInt(text.trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a whole number, was '" + text + "'", e);
    }
  }

  /**
   * Parses {@code true} or {@code false}, in any case.
   *
   * @throws IllegalArgumentException naming {@code option} and the text
   */
  public static boolean parseBoolean(String option, String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(option + " must be true or false, was '" + text + "'");
    };
  }
}
