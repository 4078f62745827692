package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** HTTP plumbing the node and the balancer share: building responses, errors and closing politely. */
final class HttpReplies {

  /** The longest request line accepted; longer gets 414. */
  static final int MAX_INITIAL_LINE = 8 * 1024;
  /** The most header bytes accepted; more gets 431. */
  static final int MAX_HEADER_SIZE = 16 * 1024;
  /** How long a connection closed after an error keeps draining input, so the client reads the answer. */
  static final long LINGER_MILLIS = 2_000;
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
    Throwable cause = result.cause();
    int status;
    String error;
    String message;
    if (cause instanceof TooLongHttpLineException) {
      status = 414;
      error = "URITooLong";
      message = "the request line is limited to " + MAX_INITIAL_LINE + " bytes";
    } else if (cause instanceof TooLongHttpHeaderException) {
      status = 431;
      error = "RequestHeaderFieldsTooLarge";
      message = "headers are limited to " + MAX_HEADER_SIZE + " bytes";
    } else if (cause instanceof TooLongFrameException) {
      status = 413;
      error = "PayloadTooLarge";
      message = "request too large";
    } else {
      status = 400;
      error = "BadRequest";
      message = "malformed HTTP request: " + (cause == null ? "unknown" : cause.getMessage());
    }
    return response(HttpVersion.HTTP_1_1, status, ApiResponse.JSON, Json.error(error, message), headers, false);
  }

  /** The 413 answering a body over {@code limit} bytes; the connection closes after it. */
  static FullHttpResponse tooLarge(int limit, Map<String, String> headers) {
    return response(HttpVersion.HTTP_1_1, 413, ApiResponse.JSON, Json.error("PayloadTooLarge",
        "the request body is limited to " + limit + " bytes (--max-body / MAX_BODY_BYTES)"), headers, false);
  }

  /**
   * Sends {@code message} as the last thing on {@code channel}, then shuts its output down and
   * drains input for {@value #LINGER_MILLIS} ms at most before closing, so the client is not
   * reset before it reads the answer.
   */
  static void closeGracefully(Channel channel, Object message) {
    channel.config().setAutoRead(true);
    channel.writeAndFlush(message).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess() && f.channel() instanceof DuplexChannel duplex && duplex.isActive()) {
        duplex.shutdownOutput();
        duplex.eventLoop().schedule(() -> duplex.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
      } else {
        f.channel().close();
      }
    });
  }

  /** The method as a metrics tag: the API's methods by name, anything else as {@code other}. */
  static String methodTag(String method) {
    return switch (method) {
      case "GET", "POST", "DELETE", "PUT", "HEAD" -> method.toLowerCase(Locale.ROOT);
      default -> "other";
    };
  }
}
