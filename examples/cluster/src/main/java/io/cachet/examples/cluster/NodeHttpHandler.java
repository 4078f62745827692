package io.cachet.examples.cluster;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;

/**
 * One node connection: hands each complete request to {@link NodeApi} and writes the answers in
 * request order, one request at a time (a pipelining client's later requests wait in a short
 * queue; the connection stops reading while it holds {@value #MAX_QUEUED}). Everything runs on
 * the connection's event loop; a cache stage completed on a Kafka thread hops back with
 * {@code execute}. Not sharable: one instance per connection.
 */
final class NodeHttpHandler extends ChannelInboundHandlerAdapter {

  /** Requests queued behind the one in flight after which the connection stops reading. */
  static final int MAX_QUEUED = 16;

  private final NodeApi api;
  private final NodeMetrics metrics;
  private final Map<String, String> nodeHeader;
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private boolean busy;
  private boolean closing;

  NodeHttpHandler(NodeApi api, NodeMetrics metrics, String nodeId) {
    this.api = api;
    this.metrics = metrics;
    this.nodeHeader = Map.of(HttpReplies.NODE_HEADER, nodeId);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    queue.add(msg);
    if (queue.size() >= MAX_QUEUED) {
      ctx.channel().config().setAutoRead(false);
    }
    drain(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Connection resets and the like: nobody to answer.
    ctx.close();
  }

  private void drain(ChannelHandlerContext ctx) {
    while (!busy && !closing) {
      Object next = queue.poll();
      if (next == null) {
        break;
      }
      process(ctx, next);
    }
    if (!closing && queue.size() <= MAX_QUEUED / 2 && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void process(ChannelHandlerContext ctx, Object msg) {
    long start = System.nanoTime();
    if (msg instanceof BoundedAggregator.Oversized oversized) {
      metrics.record(NodeApi.ROUTE_OTHER, HttpReplies.methodTag(oversized.method()), 413, System.nanoTime() - start);
      finish(ctx, HttpReplies.tooLarge(oversized.limit(), nodeHeader));
      return;
    }
    if (!(msg instanceof FullHttpRequest request)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    NodeApi.Request apiRequest;
    HttpVersion version;
    boolean keepAlive;
    String method;
    try {
      if (request.decoderResult().isFailure()) {
        FullHttpResponse response = HttpReplies.malformed(request.decoderResult(), nodeHeader);
        metrics.record(NodeApi.ROUTE_OTHER, "other", response.status().code(), System.nanoTime() - start);
        finish(ctx, response);
        return;
      }
      version = request.protocolVersion();
      keepAlive = HttpUtil.isKeepAlive(request);
      method = request.method().name();
      apiRequest = new NodeApi.Request(method, request.uri(), request.headers().get(HttpHeaderNames.CONTENT_TYPE),
          ByteBufUtil.getBytes(request.content()));
    } finally {
      request.release();
    }
    busy = true;
    CompletionStage<ApiResponse> answer = api.handle(apiRequest);
    answer.whenComplete((response, error) -> onEventLoop(ctx, () -> {
      ApiResponse r = response != null ? response
          : ApiResponse.error(NodeApi.ROUTE_OTHER, 500, "InternalError", "internal error");
      metrics.record(r.route(), HttpReplies.methodTag(method), r.status(), System.nanoTime() - start);
      reply(ctx, HttpReplies.response(version, r.status(), r.contentType(), r.body(), merged(r.headers()), keepAlive),
          keepAlive);
    }));
  }

  private Map<String, String> merged(Map<String, String> headers) {
    if (headers.isEmpty()) {
      return nodeHeader;
    }
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.putAll(nodeHeader);
    return all;
  }

  private void reply(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    busy = false;
    if (closing) {
      response.release();
      return;
    }
    if (keepAlive) {
      ctx.writeAndFlush(response, ctx.voidPromise());
      drain(ctx);
    } else {
      closing = true;
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Answers a request after which the connection cannot continue (malformed, oversized). */
  private void finish(ChannelHandlerContext ctx, FullHttpResponse response) {
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    HttpReplies.closeGracefully(ctx.channel(), response);
  }

  private static void onEventLoop(ChannelHandlerContext ctx, Runnable task) {
    if (ctx.executor().inEventLoop()) {
      task.run();
      return;
    }
    try {
      ctx.executor().execute(task);
    } catch (RejectedExecutionException e) {
      // Shutting down: the answer has nowhere to go.
    }
  }

  /** Visible for tests: whether a request is in flight. */
  boolean busy() {
    return busy;
  }

  /** Visible for tests: the queued messages. */
  int queued() {
    return queue.size();
  }
}
