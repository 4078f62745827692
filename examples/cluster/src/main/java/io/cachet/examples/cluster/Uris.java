package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import org.jspecify.annotations.Nullable;

/**
 * Splits a request target into path and query, and decodes percent-escapes strictly: every
 * {@code %} must start two hex digits and the bytes must be UTF-8. In a path {@code +} is a plus.
 */
final class Uris {

  private Uris() {}

  /** A decoding failure; the message says what is wrong. */
  static final class BadUri extends Exception {
    private static final long serialVersionUID = 1L;

    BadUri(String message) {
      super(message, null, false, false);
    }
  }

  /** Returns the query of {@code uri} (after {@code ?}, before {@code #}), or an empty string. */
  static String query(String uri) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return "";
    }
    int h = uri.indexOf('#', q);
    return uri.substring(q + 1, h < 0 ? uri.length() : h);
  }

  /**
   * Returns the decoded value of query parameter {@code name}, or null when absent.
   *
   * @throws BadUri when it is given twice or badly encoded
   */
  static @Nullable String parameter(String query, String name) throws BadUri {
    String found = null;
    if (query.isEmpty()) {
      return null;
    }
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      if (!decode(rawName.replace('+', ' ')).equals(name)) {
        continue;
      }
      if (found != null) {
        throw new BadUri("query parameter '" + name + "' is given more than once");
      }
      found = eq < 0 ? "" : decode(pair.substring(eq + 1).replace('+', ' '));
    }
    return found;
  }

  /**
   * Decodes percent-escapes; characters above U+00FF cannot occur (the request line is read as
   * ISO-8859-1), others stand for their byte.
   *
   * @throws BadUri for a malformed escape or bytes that are not UTF-8
   */
  static String decode(String raw) throws BadUri {
    if (raw.indexOf('%') < 0 && raw.chars().allMatch(c -> c < 0x80)) {
      return raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length() || hex(raw.charAt(i + 1)) < 0 || hex(raw.charAt(i + 2)) < 0) {
          throw new BadUri("malformed percent-escape at position " + i + " (use %XX with two hex digits)");
        }
        bytes.write(hex(raw.charAt(i + 1)) * 16 + hex(raw.charAt(i + 2)));
        i += 2;
      } else if (c > 0xff) {
        throw new BadUri("character U+" + Integer.toHexString(c) + " must be percent-encoded as UTF-8");
      } else {
        bytes.write(c);
      }
    }
    try {
      return UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadUri("percent-escapes must encode UTF-8");
    }
  }

  /**
   * Returns {@code uri} with every character above U+007F percent-encoded as the byte it stands
   * for (Netty reads a request line as ISO-8859-1, one character per byte), so a forwarded
   * request carries the exact bytes the client sent: Netty's encoder would write those
   * characters as UTF-8, turning the raw bytes {@code C0 AF} into the valid {@code C3 80 C2 AF}.
   */
  static String escapeNonAscii(String uri) {
    int i = 0;
    while (i < uri.length() && uri.charAt(i) < 0x80) {
      i++;
    }
    if (i == uri.length()) {
      return uri;
    }
    StringBuilder sb = new StringBuilder(uri.length() + 16).append(uri, 0, i);
    for (; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c < 0x80) {
        sb.append(c);
      } else if (c <= 0xff) {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      } else {
        // Cannot come from a request line; encode it as its UTF-8 bytes, the encoder's reading.
        for (byte b : String.valueOf(c).getBytes(UTF_8)) {
          sb.append(String.format("%%%02X", b & 0xff));
        }
      }
    }
    return sb.toString();
  }

  /** Whether {@code s} holds a control character (C0, DEL or C1). */
  static boolean hasControlCharacter(String s) {
    return s.codePoints().anyMatch(cp -> cp < 0x20 || (cp >= 0x7f && cp <= 0x9f));
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
