package io.cachet.examples.cluster;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * One node connection: hands each complete request to {@link NodeApi} and writes the answers in
 * request order, one request at a time (see {@link PipelinedHttpHandler}). Everything runs on
 * the connection's event loop; a cache stage completed on a Kafka thread hops back with
 * {@code execute}. Not sharable: one instance per connection.
 */
final class NodeHttpHandler extends PipelinedHttpHandler {

  private final NodeApi api;
  private final NodeMetrics metrics;
  private final Map<String, String> nodeHeader;

  NodeHttpHandler(NodeApi api, NodeMetrics metrics, String nodeId) {
    this(api, metrics, nodeId, MAX_QUEUED);
  }

  /** @param maxQueued requests queued behind the one in flight after which the connection stops reading */
  NodeHttpHandler(NodeApi api, NodeMetrics metrics, String nodeId, int maxQueued) {
    super(maxQueued);
    this.api = api;
    this.metrics = metrics;
    this.nodeHeader = Map.of(HttpReplies.NODE_HEADER, nodeId);
  }

  @Override
  protected void process(ChannelHandlerContext ctx, Object msg) {
    long start = System.nanoTime();
    if (msg instanceof BoundedAggregator.Oversized oversized) {
      metrics.record(NodeApi.ROUTE_OTHER, HttpReplies.methodTag(oversized.method()), 413, System.nanoTime() - start);
      fatal(ctx, HttpReplies.tooLarge(oversized.limit(), nodeHeader));
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
      FullHttpResponse refusal = HttpReplies.refusal(request, nodeHeader);
      if (refusal != null) {
        String methodTag =
            request.decoderResult().isFailure() ? "other" : HttpReplies.methodTag(request.method().name());
        metrics.record(NodeApi.ROUTE_OTHER, methodTag, refusal.status().code(), System.nanoTime() - start);
        fatal(ctx, refusal);
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
    markBusy();
    api.started(); // answered() once the answer is handed to the connection: a shutdown waits for it
    CompletionStage<ApiResponse> answer;
    try {
      answer = api.handle(apiRequest);
    } catch (RuntimeException | Error e) {
      api.answered();
      throw e;
    }
    answer.whenComplete((response, error) -> onEventLoop(ctx, () -> {
      try {
        ApiResponse r = response != null ? response
            : ApiResponse.error(NodeApi.ROUTE_OTHER, 500, "InternalError", "internal error");
        metrics.record(r.route(), HttpReplies.methodTag(method), r.status(), System.nanoTime() - start);
        reply(ctx, HttpReplies.response(version, r.status(), r.contentType(), r.body(), merged(r.headers()), keepAlive),
            keepAlive);
      } finally {
        api.answered();
      }
    }));
  }

  @Override
  protected Map<String, String> timeoutHeaders() {
    return nodeHeader;
  }

  private Map<String, String> merged(Map<String, String> headers) {
    if (headers.isEmpty()) {
      return nodeHeader;
    }
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.putAll(nodeHeader);
    return all;
  }
}
