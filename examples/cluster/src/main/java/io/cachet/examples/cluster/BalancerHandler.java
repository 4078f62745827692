package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.examples.support.Json;
import io.cachet.examples.support.RequestTargets;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One client connection of the balancer: forwards each request to a node (see {@link Balancer})
 * or answers {@code /admin/...} itself, one request at a time, answers in request order (see
 * {@link PipelinedHttpHandler}). Runs on the connection's event loop. One instance per connection.
 */
final class BalancerHandler extends PipelinedHttpHandler {

  private static final Map<String, String> BALANCER = Map.of(HttpReplies.NODE_HEADER, "balancer");
  private static final Pattern NODE_ACTION = Pattern.compile("/admin/nodes/([0-9]{1,3})/(kill|start|stop)");
  private static final Pattern KAFKA_ACTION = Pattern.compile("/admin/kafka/(kill|start)");

  private final BackendSelector selector;
  private final Upstream upstream;
  private final ClusterControl control;
  private final Duration requestTimeout;

  BalancerHandler(BackendSelector selector, Upstream upstream, ClusterControl control, Duration requestTimeout,
      int maxQueued) {
    super(maxQueued);
    this.selector = selector;
    this.upstream = upstream;
    this.control = control;
    this.requestTimeout = requestTimeout;
  }

  @Override
  protected void process(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof BoundedAggregator.Oversized oversized) {
      fatal(ctx, HttpReplies.tooLarge(oversized.limit(), BALANCER));
      return;
    }
    if (!(msg instanceof FullHttpRequest request)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    FullHttpResponse refusal = HttpReplies.refusal(request, BALANCER);
    if (refusal != null) {
      request.release();
      fatal(ctx, refusal);
      return;
    }
    markBusy();
    String path = RequestTargets.path(request.uri());
    if (path.equals("/admin") || path.startsWith("/admin/")) {
      HttpVersion version = request.protocolVersion();
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      String method = request.method().name();
      String fromBrowser = browserRequest(request.headers());
      request.release();
      CompletionStage<ApiResponse> action;
      if (!fromThisMachine(ctx.channel().remoteAddress())) {
        action = java.util.concurrent.CompletableFuture.completedFuture(ApiResponse.error("admin", 403, "Forbidden",
            "/admin answers clients on this machine only (it kills and starts nodes); use the launcher's"
                + " stdin commands, or connect from the balancer's host"));
      } else if (fromBrowser != null) {
        action = java.util.concurrent.CompletableFuture.completedFuture(ApiResponse.error("admin", 403, "Forbidden",
            "/admin answers no request a web page may have made (" + fromBrowser + "); use curl or the"
                + " launcher's stdin commands"));
      } else {
        action = admin(method, path);
      }
      action.whenComplete((r, e) -> onEventLoop(ctx, () -> {
        ApiResponse answer = r != null ? r : ApiResponse.error("admin", 500, "InternalError",
            "admin action failed: " + (e == null ? "unknown" : e.getMessage()));
        Map<String, String> headers = new java.util.LinkedHashMap<>(answer.headers());
        headers.putAll(BALANCER);
        reply(ctx, HttpReplies.response(version, answer.status(), answer.contentType(), answer.body(), headers,
            keepAlive), keepAlive);
      }));
      return;
    }
    forward(ctx, request, new HashSet<>());
  }

  @Override
  protected Map<String, String> timeoutHeaders() {
    return BALANCER;
  }

  /**
   * Whether a client connected from a loopback address: {@code /admin} kills and starts processes,
   * so a balancer bound to a public address ({@code --host 0.0.0.0}) still serves it only locally.
   */
  static boolean fromThisMachine(@Nullable SocketAddress remote) {
    return remote instanceof InetSocketAddress inet && inet.getAddress() != null
        && inet.getAddress().isLoopbackAddress();
  }

  /**
   * Why a request from this machine may have been made by a web page rather than by its user, or
   * null: a browser on this machine is a client on this machine too, so a page from anywhere could
   * otherwise post a form to {@code /admin} (it carries an {@code Origin}, or a {@code
   * Sec-Fetch-Site} other than {@code none}, which a typed address gives), or read it through a
   * name of its own that resolves to this machine (DNS rebinding: its {@code Host} is then no
   * loopback name). curl and other tools send none of these.
   */
  static @Nullable String browserRequest(io.netty.handler.codec.http.HttpHeaders headers) {
    String origin = headers.get(HttpHeaderNames.ORIGIN);
    if (origin != null) {
      return "it has the Origin '" + origin + "'";
    }
    String site = headers.get("Sec-Fetch-Site");
    if (site != null && !site.equals("none")) {
      return "Sec-Fetch-Site is '" + site + "'";
    }
    String host = headers.get(HttpHeaderNames.HOST);
    if (host != null && !loopbackHost(host)) {
      return "its Host '" + host + "' is no loopback name";
    }
    return null;
  }

  /** Whether a {@code Host} header names this machine: localhost, a 127/8 address or [::1], with any port. */
  private static boolean loopbackHost(String host) {
    String name = host.trim().toLowerCase(java.util.Locale.ROOT);
    if (name.startsWith("[")) {
      int end = name.indexOf(']');
      return end > 0 && name.substring(1, end).equals("::1");
    }
    int colon = name.indexOf(':');
    if (colon >= 0) {
      name = name.substring(0, colon);
    }
    return name.equals("localhost") || name.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
  }

  private CompletionStage<ApiResponse> admin(String method, String path) {
    java.util.concurrent.CompletableFuture<ApiResponse> done = new java.util.concurrent.CompletableFuture<>();
    if (path.equals("/admin/nodes") || path.equals("/admin/kafka")) {
      if (!method.equals("GET")) {
        done.complete(ApiResponse.error("admin", 405, "MethodNotAllowed", "only GET is allowed here")
            .withHeader("Allow", "GET"));
      } else {
        try {
          done.complete(ApiResponse.json("admin", 200, path.equals("/admin/nodes")
              ? control.nodesJson() : control.kafkaJson()));
        } catch (RuntimeException e) {
          done.complete(ApiResponse.error("admin", 500, "AdminQueryFailed",
              e.getMessage() == null ? e.toString() : e.getMessage()));
        }
      }
      return done;
    }
    Matcher node = NODE_ACTION.matcher(path);
    Matcher kafka = KAFKA_ACTION.matcher(path);
    if (!node.matches() && !kafka.matches()) {
      done.complete(ApiResponse.error("admin", 404, "NotFound", "no admin endpoint " + Json.quote(path)
          + "; use GET /admin/nodes, POST /admin/nodes/{n}/kill|stop|start, GET /admin/kafka, "
          + "POST /admin/kafka/kill|start"));
      return done;
    }
    if (!method.equals("POST")) {
      done.complete(ApiResponse.error("admin", 405, "MethodNotAllowed", "only POST is allowed here")
          .withHeader("Allow", "POST"));
      return done;
    }
    if (kafka.matches()) {
      return kafka.group(1).equals("kill") ? control.killKafka() : control.startKafka();
    }
    int n = Integer.parseInt(node.group(1));
    return switch (node.group(2)) {
      case "kill" -> control.killNode(n);
      case "stop" -> control.stopNode(n);
      default -> control.startNode(n);
    };
  }

  /** Sends {@code request} to the next ready node not yet tried; retries as {@link Balancer} says. */
  private void forward(ChannelHandlerContext ctx, FullHttpRequest request, Set<Backend> tried) {
    Backend backend = selector.pick(tried);
    HttpVersion version = request.protocolVersion();
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (backend == null) {
      request.release();
      reply(ctx, HttpReplies.response(version, 503, ApiResponse.JSON, Json.error("NoNodeAvailable",
              tried.isEmpty() ? "no node is ready; retry shortly" : "no other node is ready; retry shortly"),
          Map.of(HttpReplies.NODE_HEADER, "balancer", "Retry-After", "1"), keepAlive), keepAlive);
      return;
    }
    tried.add(backend);
    FullHttpRequest copy = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(),
        Uris.escapeNonAscii(request.uri()),
        request.content().retainedDuplicate(), request.headers().copy(), request.trailingHeaders().copy());
    copy.headers().remove(HttpHeaderNames.CONNECTION);
    copy.headers().remove(HttpHeaderNames.EXPECT);
    copy.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    HttpUtil.setContentLength(copy, copy.content().readableBytes());
    Future<FullHttpResponse> answer = upstream.send(ctx.channel().eventLoop(), backend, copy, requestTimeout);
    answer.addListener(f -> {
      if (closing()) {
        request.release();
        if (f.isSuccess()) {
          ((FullHttpResponse) f.getNow()).release();
        }
        return;
      }
      // Only a read is retried once it may have reached a node: a DELETE (or POST) that timed out
      // may have been applied there, and retrying it elsewhere would answer 404 for a delete that
      // succeeded, or apply a write twice.
      boolean retryable = HttpMethod.GET.equals(request.method()) || HttpMethod.HEAD.equals(request.method());
      if (f.isSuccess()) {
        FullHttpResponse response = (FullHttpResponse) f.getNow();
        if (response.status().code() == 503 && notReady(response) && tried.size() < selector.backends().size()) {
          // The node did nothing (not ready yet or shutting down): any method may go elsewhere.
          backend.ready(false);
          response.release();
          forward(ctx, request, tried);
          return;
        }
        request.release();
        response.headers().set(HttpReplies.NODE_HEADER, backend.id);
        HttpReplies.keepAlive(response, version, keepAlive);
        reply(ctx, response, keepAlive);
        return;
      }
      Throwable cause = f.cause();
      if (cause instanceof Upstream.NotSent) {
        backend.ready(false); // cannot connect: skip it until its next readiness probe
      }
      if ((retryable || cause instanceof Upstream.NotSent) && tried.size() < selector.backends().size()) {
        forward(ctx, request, tried);
        return;
      }
      request.release();
      boolean timeout = cause instanceof TimeoutException;
      reply(ctx, HttpReplies.response(version, timeout ? 504 : 502, ApiResponse.JSON,
          Json.error(timeout ? "GatewayTimeout" : "BadGateway", backend.id + " failed: " + cause.getMessage()
              + (retryable ? "" : "; the " + request.method().name() + " may or may not have been applied")),
          Map.of(HttpReplies.NODE_HEADER, backend.id), keepAlive), keepAlive);
    });
  }

  private static boolean notReady(FullHttpResponse response) {
    return response.content().toString(UTF_8).contains("\"error\":\"NotReady\"");
  }
}
