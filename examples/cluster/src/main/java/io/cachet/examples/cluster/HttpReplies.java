package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.examples.support.HttpErrors;
import io.cachet.examples.support.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * HTTP plumbing the node and the balancer share: building responses and errors. The request
 * limits, the answer to a malformed request and closing after it are the examples' common ones
 * ({@link HttpErrors}, {@link io.cachet.examples.support.Connections}).
 */
final class HttpReplies {

  /** The header naming the node that answered. */
  static final String NODE_HEADER = "X-Cachet-Node";

  private HttpReplies() {}

  /** A full response with a UTF-8 body, {@code Content-Length} and the connection header. */
  static FullHttpResponse response(HttpVersion version, int status, String contentType, String body,
      Map<String, String> headers, boolean keepAlive) {
    ByteBuf content = Unpooled.copiedBuffer(body, UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(status), content);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, contentType)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    headers.forEach(response.headers()::set);
    keepAlive(response, version, keepAlive);
    return response;
  }

  /** Sets the {@code Connection} header for {@code keepAlive} as HTTP/1.0 and 1.1 expect it. */
  static void keepAlive(FullHttpResponse response, HttpVersion version, boolean keepAlive) {
    if (!keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (version.equals(HttpVersion.HTTP_1_0)) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    } else {
      response.headers().remove(HttpHeaderNames.CONNECTION);
    }
  }

  /**
   * The answer to a request this server cannot take, after which the connection closes: one Netty
   * could not decode, of an HTTP version other than 1.0 and 1.1, or expecting anything but
   * {@code 100-continue}; null for a request it can take.
   */
  static @Nullable FullHttpResponse refusal(FullHttpRequest request, Map<String, String> headers) {
    if (request.decoderResult().isFailure()) {
      return malformed(request.decoderResult(), headers);
    }
    HttpErrors.Problem version = HttpErrors.unsupportedVersion(request.protocolVersion());
    if (version != null) {
      return response(HttpVersion.HTTP_1_1, version.status(), ApiResponse.JSON, version.json(), headers, false);
    }
    return expectationFailed(request, headers);
  }

  /** The JSON error answering a request Netty could not decode. */
  static FullHttpResponse malformed(DecoderResult result, Map<String, String> headers) {
    HttpErrors.Problem problem = HttpErrors.malformed(result.cause());
    return response(HttpVersion.HTTP_1_1, problem.status(), ApiResponse.JSON, problem.json(), headers, false);
  }

  /** The 413 answering a body over {@code limit} bytes; the connection closes after it. */
  static FullHttpResponse tooLarge(int limit, Map<String, String> headers) {
    return response(HttpVersion.HTTP_1_1, 413, ApiResponse.JSON, Json.error("PayloadTooLarge",
        "the request body is limited to " + limit + " bytes (--max-body / MAX_BODY_BYTES)"), headers, false);
  }

  /**
   * The 417 for a request whose {@code Expect} header asks for anything but {@code 100-continue},
   * or null when it asks for nothing else. The connection is closed after it.
   */
  static @Nullable FullHttpResponse expectationFailed(HttpRequest request, Map<String, String> headers) {
    if (!unsupportedExpectation(request)) {
      return null;
    }
    String expect = request.headers().get(HttpHeaderNames.EXPECT);
    return response(request.protocolVersion(), 417, ApiResponse.JSON, Json.error("ExpectationFailed",
        "only 'Expect: 100-continue' is supported, got " + Json.quote(expect == null ? "" : expect)), headers, false);
  }

  /** Whether an HTTP/1.1 message's {@code Expect} header asks for anything but {@code 100-continue}. */
  static boolean unsupportedExpectation(HttpMessage message) {
    String expect = message.headers().get(HttpHeaderNames.EXPECT);
    return expect != null && message.protocolVersion().compareTo(HttpVersion.HTTP_1_1) >= 0
        && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim());
  }

  /** The method as a metrics tag: the API's methods by name, anything else as {@code other}. */
  static String methodTag(String method) {
    return switch (method) {
      case "GET", "POST", "DELETE", "PUT", "HEAD" -> method.toLowerCase(Locale.ROOT);
      default -> "other";
    };
  }
}
