package io.cachet.examples.proxy;

import java.io.ByteArrayOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * Reads the path and the {@code key} parameter of a request URI strictly: percent-encoding must be
 * well formed and {@code +} is a space (as in HTML forms; send {@code %2B} for a plus). The
 * decoded bytes are the key, whatever they are: Redis keys are binary, so {@code key=%FF%FE} is
 * the two-byte key {@code FF FE}, and no character set is assumed. Stateless.
 */
final class Query {

  /** The parsed key, or the reason there is none. */
  record Key(@Nullable RedisKey key, String problem) {}

  private Query() {}

  /** Returns the value of the {@code key} query parameter of {@code uri}. */
  static Key key(String uri) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return problem("missing query parameter 'key' (use /proxy?key=K)");
    }
    int end = uri.indexOf('#', q);
    String query = uri.substring(q + 1, end < 0 ? uri.length() : end);
    String found = null;
    int from = 0;
    while (from <= query.length()) {
      int amp = query.indexOf('&', from);
      int partEnd = amp < 0 ? query.length() : amp;
      String part = query.substring(from, partEnd);
      int eq = part.indexOf('=');
      String rawName = eq < 0 ? part : part.substring(0, eq);
      byte[] name = decode(rawName);
      if (name != null && name.length == 3 && name[0] == 'k' && name[1] == 'e' && name[2] == 'y') {
        if (found != null) {
          return problem("query parameter 'key' given more than once");
        }
        found = eq < 0 ? "" : part.substring(eq + 1);
      }
      if (amp < 0) {
        break;
      }
      from = amp + 1;
    }
    if (found == null) {
      return problem("missing query parameter 'key' (use /proxy?key=K)");
    }
    byte[] bytes = decode(found);
    if (bytes == null) {
      return problem("key has malformed percent-encoding");
    }
    if (bytes.length == 0) {
      return problem("key must not be empty");
    }
    return new Key(RedisKey.wrap(bytes), "");
  }

  /** Percent-decodes {@code s} to bytes; null if an escape is malformed. */
  private static byte @Nullable [] decode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          return null;
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else if (c == '+') {
        out.write(' ');
      } else if (c < 0x100) {
        out.write(c); // a raw byte of the request line (Netty reads it as ISO-8859-1)
      } else {
        byte[] utf8 = String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.write(utf8, 0, utf8.length);
      }
    }
    return out.toByteArray();
  }

  private static Key problem(String message) {
    return new Key(null, message);
  }
}
