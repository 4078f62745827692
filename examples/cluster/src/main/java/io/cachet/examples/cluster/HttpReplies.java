package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.examples.support.HttpErrors;
import io.cachet.examples.support.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Locale;
import java.util.Map;

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

  /** The method as a metrics tag: the API's methods by name, anything else as {@code other}. */
  static String methodTag(String method) {
    return switch (method) {
      case "GET", "POST", "DELETE", "PUT", "HEAD" -> method.toLowerCase(Locale.ROOT);
      default -> "other";
    };
  }
}
