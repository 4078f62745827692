package io.cachet.examples.cluster;

import static io.cachet.examples.support.Json.quote;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The JSON the node reads and writes: request values (parsed and checked with Jackson), the
 * envelope stored in the cache, and response bodies (string literals and error bodies come from
 * {@link io.cachet.examples.support.Json}).
 *
 * <p>A value is stored as the compact JSON text of {@code {"value":<value>,"last_updated_at":"<ISO-8601 UTC>"}},
 * so a read answers without parsing it again. Numbers keep their digits (big decimals, no
 * doubles), so {@code 1.10} and {@code 1e400} come back as sent, in compact form.
 */
final class NodeJson {

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .build();
  private static final String ENVELOPE_START = "{\"value\":";
  private static final String STAMP_FIELD = ",\"last_updated_at\":";

  static {
    MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(256).build());
  }

  private NodeJson() {}

  /** A request body that is not an acceptable value; the message says why. */
  static final class BadValue extends Exception {
    private static final long serialVersionUID = 1L;

    BadValue(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Parses a request body as one JSON value: a string, number, object or array; not null, a
   * boolean, an empty string or an empty array.
   *
   * @return the value's compact JSON text
   * @throws BadValue saying what is wrong
   */
  static String value(byte[] body) throws BadValue {
    if (body.length == 0) {
      throw new BadValue("the request body must be a JSON value (a string, number, object or array), was empty");
    }
    checkUtf8(body);
    JsonNode node;
    try {
      // From text, not bytes: given bytes, Jackson guesses the encoding and reads NUL-padded
      // ASCII (valid UTF-8, but no JSON) as UTF-16 or UTF-32 JSON.
      node = MAPPER.readTree(new String(body, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new BadValue("the request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BadValue("the request body is not valid JSON");
    } catch (NumberFormatException | ArithmeticException e) {
      // Jackson builds a BigDecimal whose exponent does not fit an int (1e2147483648).
      throw new BadValue("the request body holds a number out of range: " + e.getMessage());
    }
    if (node == null || node.isMissingNode()) {
      throw new BadValue("the request body must be a JSON value (a string, number, object or array), was empty");
    }
    checkNoLoneSurrogate(node);
    switch (node.getNodeType()) {
      case STRING -> {
        if (node.textValue().isEmpty()) {
          throw new BadValue("the value must not be an empty string");
        }
      }
      case ARRAY -> {
        if (node.isEmpty()) {
          throw new BadValue("the value must not be an empty array");
        }
      }
      case NUMBER, OBJECT -> {
        // accepted as is
      }
      case NULL -> throw new BadValue("the value must be a string, number, object or array, was null");
      case BOOLEAN -> throw new BadValue("the value must be a string, number, object or array, was a boolean");
      default -> throw new BadValue("the value must be a string, number, object or array");
    }
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new BadValue("the value cannot be written back as JSON: " + e.getOriginalMessage());
    }
  }

  /**
   * Refuses a string holding half of a surrogate pair (<code>"&#92;ud800"</code>): JSON lets an escape spell
   * it, but it is no character, and encoding it back (the value's bytes in Kafka, the reply) would
   * turn it into {@code ?}: the value stored would not be the one sent.
   */
  private static void checkNoLoneSurrogate(JsonNode node) throws BadValue {
    if (node.isTextual()) {
      String text = node.textValue();
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
        } else if (Character.isSurrogate(c)) {
          throw new BadValue(String.format(
              "the value holds a lone surrogate (\\u%04x), which is not a character", (int) c));
        }
      }
    } else if (node.isContainerNode()) {
      for (JsonNode child : node) {
        checkNoLoneSurrogate(child);
      }
    }
  }

  /**
   * Checks that {@code body} is well-formed UTF-8 (RFC 3629): Jackson's own decoding is lenient
   * and reads overlong forms as the character they spell ({@code C0 AF} as {@code /}), so a
   * value would be stored, and replicated, as something other than what was sent. Overlong
   * forms, surrogates, code points past U+10FFFF and truncated sequences are refused.
   *
   * @throws BadValue naming the byte offset and the bytes
   */
  static void checkUtf8(byte[] body) throws BadValue {
    int i = 0;
    while (i < body.length && body[i] >= 0) {
      i++; // ASCII, the common case, without a decoder
    }
    if (i == body.length) {
      return;
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body, i, body.length - i);
    CharBuffer out = CharBuffer.allocate(Math.min(body.length - i, 8192));
    while (true) {
      CoderResult result = decoder.decode(in, out, true);
      if (result.isError()) {
        int at = in.position();
        StringBuilder bytes = new StringBuilder();
        for (int b = at; b < Math.min(body.length, at + Math.max(result.length(), 1)); b++) {
          bytes.append(bytes.length() == 0 ? "" : " ").append(String.format("%02X", body[b] & 0xff));
        }
        throw new BadValue("the request body is not valid UTF-8: malformed byte sequence " + bytes
            + " at byte offset " + at + " (overlong forms, surrogates and truncated sequences are refused)");
      }
      if (result.isUnderflow()) {
        break;
      }
      out.clear(); // overflow: only validity matters here, not the characters
    }
    out.clear();
    if (decoder.flush(out).isError()) {
      throw new BadValue("the request body is not valid UTF-8: it ends inside a character");
    }
  }

  /** Formats a timestamp as ISO-8601 UTC with millisecond precision, e.g. {@code 2025-01-31T12:00:00.123Z}. */
  static String timestamp(Instant instant) {
    return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.MILLIS));
  }

  /** The string stored in the cache: {@code {"value":<value>,"last_updated_at":"<stamp>"}}. */
  static String envelope(String valueJson, String stamp) {
    return ENVELOPE_START + valueJson + STAMP_FIELD + quote(stamp) + "}";
  }

  /**
   * The response payload for a stored envelope: {@code {"key":..,"value":..,"last_updated_at":..}}.
   * A cached string that is not an envelope (written by another client of the topic) is returned
   * as a JSON string with a null timestamp.
   */
  static String payload(String key, String stored) {
    if (stored.startsWith(ENVELOPE_START) && stored.endsWith("}") && stored.contains(STAMP_FIELD)) {
      return "{\"key\":" + quote(key) + "," + stored.substring(1);
    }
    return "{\"key\":" + quote(key) + ",\"value\":" + quote(stored) + ",\"last_updated_at\":null}";
  }

  /** The length of {@code text} in UTF-8, without encoding it. */
  static long utf8Length(CharSequence text) {
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isSurrogate(c)) {
        bytes += 2; // a pair is 4 bytes
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** {@code {"message":"<message>","payload":<payload>}}. */
  static String message(String message, String payloadJson) {
    return "{\"message\":" + quote(message) + ",\"payload\":" + payloadJson + "}";
  }
}
