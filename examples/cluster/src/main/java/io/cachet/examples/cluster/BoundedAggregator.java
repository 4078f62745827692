package io.cachet.examples.cluster;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import org.jspecify.annotations.Nullable;

/**
 * Netty's aggregator with the body limit answered by the next handler: instead of Netty's bare
 * 413 it passes an {@link Oversized} marker on, in request order, and discards the body; a
 * request with {@code Expect: 100-continue} and a too large {@code Content-Length} gets no 100
 * and is treated the same way. A request with another expectation is read whole and passed on,
 * for the handler to answer 417 in order ({@link HttpReplies#expectationFailed}), instead of
 * Netty's bare 417 out of order.
 */
final class BoundedAggregator extends HttpObjectAggregator {

  /** Stands for a request whose body exceeded the limit; the connection is closed after the answer. */
  record Oversized(String method, String uri, int limit) {}

  private final int limit;

  BoundedAggregator(int limit) {
    super(limit);
    this.limit = limit;
  }

  @Override
  protected @Nullable Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    if (HttpUtil.getContentLength(start, -1L) > maxContentLength) {
      return null; // handled by handleOversizedMessage, with a JSON body
    }
    if (HttpReplies.unsupportedExpectation(start)) {
      return null; // received whole, then answered 417 with a JSON body, in order (HttpReplies)
    }
    return super.newContinueResponse(start, maxContentLength, pipeline);
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    if (oversized instanceof HttpRequest request) {
      ctx.fireChannelRead(new Oversized(request.method().name(), request.uri(), limit));
    } else {
      ctx.close();
    }
  }
}
