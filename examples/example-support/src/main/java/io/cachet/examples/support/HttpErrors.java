package io.cachet.examples.support;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import org.jspecify.annotations.Nullable;

/** The HTTP request limits the examples' servers enforce, and the answer to a request over them. */
public final class HttpErrors {

  /** The longest request line accepted; longer gets 414. */
  public static final int MAX_INITIAL_LINE = 8 * 1024;
  /** The most header bytes accepted; more gets 431. */
  public static final int MAX_HEADER_SIZE = 16 * 1024;

  private HttpErrors() {}

  /**
   * An error answer: its status code and the two fields of its JSON body.
   *
   * @param status the HTTP status code
   * @param error a short machine-readable name, e.g. {@code URITooLong}
   * @param message what went wrong, for a person
   */
  public record Problem(int status, String error, String message) {
    /**
     * Returns the body: {@code {"error":"<error>","message":"<message>"}}.
     *
     * @return the JSON text
     */
    public String json() {
      return Json.error(error, message);
    }
  }

  /**
   * Returns the answer to a request of an HTTP version other than 1.0 and 1.1 (Netty's decoder
   * takes {@code HTTP/2.0} and {@code HTTP/9.9} on a request line), or null for those two. The
   * connection should close after it.
   *
   * @param version the request's version
   * @return 505, or null
   */
  public static @Nullable Problem unsupportedVersion(HttpVersion version) {
    if (version.majorVersion() == 1 && version.minorVersion() <= 1) {
      return null;
    }
    return new Problem(505, "HTTPVersionNotSupported",
        "only HTTP/1.0 and HTTP/1.1 are supported, was " + version.text());
  }

  /**
   * Returns the answer to a request Netty's HTTP decoder failed on: 414 for a request line over
   * {@link #MAX_INITIAL_LINE}, 431 for headers over {@link #MAX_HEADER_SIZE}, 413 for another
   * frame too long, 400 for anything else. The connection should close after it.
   *
   * @param cause the decoder's failure, {@code null} when it gave none
   * @return the answer to send
   */
  public static Problem malformed(@Nullable Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return new Problem(414, "URITooLong", "the request line is limited to " + MAX_INITIAL_LINE + " bytes");
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return new Problem(431, "RequestHeaderFieldsTooLarge", "headers are limited to " + MAX_HEADER_SIZE + " bytes");
    }
    if (cause instanceof TooLongFrameException) {
      return new Problem(413, "PayloadTooLarge", "request too large");
    }
    return new Problem(400, "BadRequest", "malformed HTTP request: " + (cause == null ? "unknown" : cause.getMessage()));
  }
}
