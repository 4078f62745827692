package io.cachet.examples.support;

/**
 * The path of an HTTP request target, in origin form ({@code /proxy?key=a}) or absolute form
 * ({@code http://host:8080/proxy?key=a}), which RFC 9112 (3.2.2) says a server must accept, as a
 * client sends to a proxy. Stateless.
 */
public final class RequestTargets {

  private RequestTargets() {}

  /**
   * Returns the path of {@code target}, without query or fragment. In absolute form the authority
   * ends at the first {@code /}, {@code ?} or {@code #}, so a slash inside the query is not taken
   * for the path; an empty path is {@code /}.
   *
   * @param target the request target as it came on the request line
   * @return its path
   */
  public static String path(String target) {
    int start = 0;
    int scheme = target.indexOf("://");
    if (scheme > 0 && isScheme(target, scheme)) {
      start = scheme + 3;
      while (start < target.length() && "/?#".indexOf(target.charAt(start)) < 0) {
        start++;
      }
      if (start == target.length() || target.charAt(start) != '/') {
        return "/";
      }
    }
    int end = target.length();
    int q = target.indexOf('?', start);
    if (q >= 0) {
      end = q;
    }
    int hash = target.indexOf('#', start);
    if (hash >= 0 && hash < end) {
      end = hash;
    }
    return target.substring(start, end);
  }

  /** Whether {@code target} up to {@code end} is a URI scheme: a letter, then letters, digits, +, - or . */
  private static boolean isScheme(String target, int end) {
    for (int i = 0; i < end; i++) {
      char c = target.charAt(i);
      boolean letter = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
      if (!letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'))) {
        return false;
      }
    }
    return true;
  }
}
