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

  /**
   * Returns the class named {@code text}, loaded through {@code classLoader}; the primitive-free
   * names {@code String} and {@code byte[]} are accepted as they are.
   */
  public static Class<?> parseClass(String option, String text, ClassLoader classLoader) {
    switch (text) {
      case "String", "string" -> {
        return String.class;
      }
      case "byte[]", "bytes" -> {
        return byte[].class;
      }
      default -> {
        try {
          return Class.forName(text, false, classLoader);
        } catch (ClassNotFoundException | LinkageError e) {
          throw new IllegalArgumentException(
              option + " must name a class on the class path, was '" + text + "'", e);
        }
      }
    }
  }
}
