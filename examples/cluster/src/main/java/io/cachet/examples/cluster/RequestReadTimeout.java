package io.cachet.examples.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Bounds the time a client may take to send one request: the clock starts at the first byte of a
 * request and stops when the aggregator hands the whole request on; past the timeout the
 * pipeline gets a {@link TimedOut} event (the handler answers 408 and closes). Without it a
 * client trickling a body, one byte a minute, pins up to {@code --max-body} bytes and a
 * connection slot forever. The clock does not blame the client while the server itself has
 * paused reading the connection (auto-read off, see {@link ReadGate}): a timeout that ends then
 * starts over. Two handlers share the state: {@link #start()} sits in front of the
 * HTTP codec and sees raw bytes, {@link #end()} after the aggregator and sees whole requests.
 * Event-loop confined; one instance per connection.
 */
final class RequestReadTimeout {

  /** The user event fired when a request did not arrive whole in time. */
  record TimedOut(Duration timeout) {}

  private final Duration timeout;
  private @Nullable ScheduledFuture<?> timer;
  private boolean inRequest;

  RequestReadTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  /** The handler in front of the codec: starts the clock at a request's first byte. */
  ChannelInboundHandlerAdapter start() {
    return new ChannelDuplexHandler() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (!inRequest && msg instanceof ByteBuf buf && buf.isReadable()) {
          inRequest = true;
          arm(ctx);
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stop();
        ctx.fireChannelInactive();
      }
    };
  }

  /** The handler after the aggregator: stops the clock once a whole request (or its refusal) arrived. */
  ChannelInboundHandlerAdapter end() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        stop();
        ctx.fireChannelRead(msg);
      }
    };
  }

  private void stop() {
    inRequest = false;
    ScheduledFuture<?> t = timer;
    timer = null;
    if (t != null) {
      t.cancel(false);
    }
  }

  private void arm(ChannelHandlerContext ctx) {
    timer = ctx.executor().schedule(() -> fire(ctx), timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void fire(ChannelHandlerContext ctx) {
    timer = null;
    if (!inRequest || !ctx.channel().isActive()) {
      return;
    }
    if (!ctx.channel().config().isAutoRead()) {
      // The server paused reading (see ReadGate): the rest of the request cannot arrive, and that
      // is not the client's doing. It gets a whole timeout again.
      arm(ctx);
      return;
    }
    ctx.pipeline().fireUserEventTriggered(new TimedOut(timeout));
  }
}
