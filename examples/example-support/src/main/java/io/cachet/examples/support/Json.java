package io.cachet.examples.support;

/** Just enough JSON to write the examples' response bodies: string literals and error bodies. */
public final class Json {

  private Json() {}

  /**
   * Returns an error body: {@code {"error":"<error>","message":"<message>"}}.
   *
   * @param error a short machine-readable name, e.g. {@code NotFound}
   * @param message what went wrong, for a person
   * @return the JSON text
   */
  public static String error(String error, String message) {
    return "{\"error\":" + quote(error) + ",\"message\":" + quote(message) + "}";
  }

  /**
   * Returns {@code s} as a JSON string literal; control characters, quotes, backslashes and lone
   * surrogates are escaped.
   *
   * @param s any string
   * @return the literal, quotes included
   */
  public static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validSurrogate(s, i)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  private static boolean validSurrogate(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }
}
