package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.AsyncCache;
import io.cachet.examples.support.HttpErrors;
import io.cachet.examples.support.Json;
import io.cachet.examples.support.RequestTargets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * Answers HTTP/1.1: {@code GET /proxy?key=K} (the value's bytes, 404, 400, 503),
 * {@code GET /health} and {@code GET /metrics}; other methods get 405. Errors have a JSON body
 * {@code {"error":"...","message":"..."}}. Keep-alive and pipelining are supported; responses
 * leave in request order (see {@link ClientHandler}). A malformed or oversized request is
 * answered 400/413/414/431 and the connection is closed. One instance per connection.
 */
final class HttpHandler extends ClientHandler {

  /** The largest request body accepted (and ignored: no endpoint takes one); more gets 413. */
  static final int MAX_BODY_BYTES = 64 * 1024;
  private static final AsciiString JSON = AsciiString.cached("application/json; charset=utf-8");
  private static final AsciiString OCTETS = AsciiString.cached("application/octet-stream");
  private static final AsciiString PROMETHEUS = AsciiString.cached("text/plain; version=0.0.4; charset=utf-8");
  private static final int MAX_KEY_IN_MESSAGE = 200;

  private final AsyncCache<RedisKey, byte[]> cache;
  private @Nullable HttpRequest current;
  private long bodyBytes;

  /** @param maxPending unanswered requests (each reads one key) after which the connection stops reading */
  HttpHandler(AsyncCache<RedisKey, byte[]> cache, Parallelism parallelism, ProxyMetrics metrics, int maxPending) {
    super(parallelism, metrics, RequestStats.Protocol.HTTP, maxPending);
    this.cache = cache;
  }

  /** The raw response sent to a client refused because MAX_CLIENTS clients are connected. */
  static byte[] tooManyClientsResponse() {
    byte[] body = Json.error("TooManyClients", "max number of clients reached").getBytes(UTF_8);
    String head = "HTTP/1.1 503 Service Unavailable\r\n"
        + "content-type: application/json; charset=utf-8\r\n"
        + "content-length: " + body.length + "\r\n"
        + "retry-after: 1\r\n"
        + "connection: close\r\n\r\n";
    byte[] headBytes = head.getBytes(UTF_8);
    byte[] all = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(body, 0, all, headBytes.length, body.length);
    return all;
  }

  @Override
  protected void onMessage(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest request) {
        if (request.decoderResult().isFailure()) {
          malformed(ctx, request.decoderResult().cause());
          return;
        }
        current = request;
        bodyBytes = 0;
      }
      if (msg instanceof HttpContent content) {
        if (content.decoderResult().isFailure()) {
          malformed(ctx, content.decoderResult().cause());
          return;
        }
        bodyBytes += content.content().readableBytes();
        if (bodyBytes > MAX_BODY_BYTES) {
          error(ctx, HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "PayloadTooLarge",
              "request bodies are limited to " + MAX_BODY_BYTES + " bytes (no endpoint takes one)", After.LINGER);
          return;
        }
        HttpRequest request = current;
        if (msg instanceof LastHttpContent && request != null) {
          current = null;
          handle(ctx, request);
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  protected Reply internalError(ChannelHandlerContext ctx, Throwable cause) {
    count(RequestStats.Outcome.http(500));
    return new Reply(response(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR,
        Json.error("InternalError", "the response could not be made"), false), After.LINGER);
  }

  @Override
  protected Reply timedOut(ChannelHandlerContext ctx, RequestDeadline.TimedOut event) {
    count(RequestStats.Outcome.http(408));
    return new Reply(response(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT,
        Json.error("RequestTimeout", "request not completed within " + ProxyMetrics.seconds(event.timeout()) + " s"),
        false), After.LINGER);
  }

  private void handle(ChannelHandlerContext ctx, HttpRequest request) {
    HttpVersion version = request.protocolVersion();
    HttpErrors.Problem unsupported = HttpErrors.unsupportedVersion(version);
    if (unsupported != null) {
      error(ctx, HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(unsupported.status()), unsupported.error(),
          unsupported.message(), After.LINGER);
      return;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    After after = keepAlive ? After.KEEP : After.CLOSE;
    String uri = request.uri();
    String path = RequestTargets.path(uri);
    switch (path) {
      case "/proxy" -> {
        if (!HttpMethod.GET.equals(request.method())) {
          methodNotAllowed(ctx, request, path, after);
          return;
        }
        proxy(ctx, request, keepAlive, after);
      }
      case "/health" -> {
        if (!HttpMethod.GET.equals(request.method())) {
          methodNotAllowed(ctx, request, path, after);
          return;
        }
        count(RequestStats.Outcome.http(200));
        reply(new Reply(response(version, HttpResponseStatus.OK, JSON,
            Unpooled.copiedBuffer("{\"status\":\"UP\"}", UTF_8), keepAlive), after));
      }
      case "/metrics" -> {
        if (!HttpMethod.GET.equals(request.method())) {
          methodNotAllowed(ctx, request, path, after);
          return;
        }
        count(RequestStats.Outcome.http(200));
        reply(new Reply(response(version, HttpResponseStatus.OK, PROMETHEUS,
            Unpooled.copiedBuffer(metrics.scrape(), UTF_8), keepAlive), after));
      }
      default -> {
        count(RequestStats.Outcome.http(404));
        reply(new Reply(headAware(request, response(version, HttpResponseStatus.NOT_FOUND, Json.error("NotFound",
            "no endpoint " + Resp.quote(path.getBytes(UTF_8), MAX_KEY_IN_MESSAGE)
                + "; use GET /proxy?key=K, GET /health or GET /metrics"), keepAlive)), after));
      }
    }
  }

  private void proxy(ChannelHandlerContext ctx, HttpRequest request, boolean keepAlive, After after) {
    HttpVersion version = request.protocolVersion();
    Query.Key parsed = Query.key(request.uri());
    RedisKey key = parsed.key();
    if (key == null) {
      error(ctx, version, HttpResponseStatus.BAD_REQUEST, "BadRequest", parsed.problem(), after);
      return;
    }
    submit(() -> cache.get(key), (value, failure) -> {
      if (failure != null) {
        ProxyMetrics.Failure f = metrics.classify(failure);
        HttpResponseStatus status = f.unavailable() ? HttpResponseStatus.SERVICE_UNAVAILABLE
            : f.wrongType() ? HttpResponseStatus.CONFLICT
            : HttpResponseStatus.INTERNAL_SERVER_ERROR;
        String code = f.unavailable() ? "ServiceUnavailable" : f.wrongType() ? "WrongType" : "InternalError";
        count(RequestStats.Outcome.http(status.code()));
        return new Reply(response(version, status, Json.error(code, f.message()), keepAlive), after);
      }
      if (value == null) {
        count(RequestStats.Outcome.http(404));
        return new Reply(response(version, HttpResponseStatus.NOT_FOUND,
            Json.error("NotFound", "key '" + key + "' does not exist in Redis"), keepAlive), after);
      }
      count(RequestStats.Outcome.http(200));
      return new Reply(response(version, HttpResponseStatus.OK, OCTETS, Unpooled.wrappedBuffer(value), keepAlive), after);
    });
  }

  private void methodNotAllowed(ChannelHandlerContext ctx, HttpRequest request, String path, After after) {
    FullHttpResponse response = response(request.protocolVersion(), HttpResponseStatus.METHOD_NOT_ALLOWED,
        Json.error("MethodNotAllowed", "only GET is allowed on " + path + ", was " + request.method().name()),
        after == After.KEEP);
    response.headers().set(HttpHeaderNames.ALLOW, "GET");
    count(RequestStats.Outcome.http(405));
    reply(new Reply(headAware(request, response), after));
  }

  /**
   * {@code response} without its body when {@code request} is a HEAD: a response to HEAD has none
   * (its headers describe the one a GET would get), and a body would be read as the start of the
   * next response on the connection.
   */
  private static FullHttpResponse headAware(HttpRequest request, FullHttpResponse response) {
    if (!HttpMethod.HEAD.equals(request.method())) {
      return response;
    }
    FullHttpResponse headOnly = response.replace(Unpooled.EMPTY_BUFFER);
    response.release();
    return headOnly;
  }

  private void malformed(ChannelHandlerContext ctx, Throwable cause) {
    HttpErrors.Problem problem = HttpErrors.malformed(cause);
    error(ctx, HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(problem.status()), problem.error(), problem.message(),
        After.LINGER);
  }

  private void error(ChannelHandlerContext ctx, HttpVersion version, HttpResponseStatus status, String error,
      String message, After after) {
    count(RequestStats.Outcome.http(status.code()));
    reply(new Reply(response(version, status, Json.error(error, message), after == After.KEEP), after));
  }

  private static FullHttpResponse response(HttpVersion version, HttpResponseStatus status, String json, boolean keepAlive) {
    return response(version, status, JSON, Unpooled.copiedBuffer(json, UTF_8), keepAlive);
  }

  private static FullHttpResponse response(
      HttpVersion version, HttpResponseStatus status, AsciiString contentType, ByteBuf body, boolean keepAlive) {
    FullHttpResponse response = new DefaultFullHttpResponse(version, status, body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, contentType)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    if (!keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (version == HttpVersion.HTTP_1_0) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    return response;
  }

}
