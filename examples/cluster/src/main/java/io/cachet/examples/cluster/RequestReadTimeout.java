package io.cachet.examples.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Bounds the time a client may take to send one request: the clock starts when the HTTP decoder
 * is handed the first byte of a request (blank lines between requests do not count) and stops
 * when the decoder has read the request's last byte; past the timeout the pipeline gets a
 * {@link TimedOut} event (the handler answers 408 and closes). Without it a client trickling a
 * body, one byte a minute, pins up to {@code --max-body} bytes and a connection slot forever.
 *
 * <p>The clock lives in the decoder itself, so a read carrying the end of one request and the
 * start of the next starts the next one's clock, whether the decoder has consumed those bytes or
 * still holds them. The clock does not blame the client while the server itself has paused
 * reading the connection (auto-read off, see {@link ReadGate}): a timeout that ends then starts over.
 *
 * <p>The decoder starts decoding a request only while the handler accepts one (see {@link
 * PipelinedHttpHandler#acceptingRequests}); otherwise it leaves the bytes it holds undecoded, and
 * no clock runs for them, until the handler has it decode them. A request it has started it
 * decodes on.
 *
 * <p>{@link #codec} is Netty's HTTP server codec with that clock: the request decoder, and a
 * response encoder that, like {@code HttpServerCodec}'s, writes no body in the answer to a
 * {@code HEAD} (the methods of the requests decoded are queued, and answers come in order). Unlike
 * {@code HttpServerCodec}'s, an interim {@code 100 Continue} does not take its request's place in
 * that queue, which left a later answer without its body.
 * Event-loop confined; one instance per connection.
 */
final class RequestReadTimeout {

  /** The user event fired when a request did not arrive whole in time. */
  record TimedOut(Duration timeout) {}

  private final Duration timeout;
  /** Methods of the requests decoded and not yet answered, oldest first. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
  private @Nullable ScheduledFuture<?> timer;
  private boolean inRequest;
  private boolean closed;

  RequestReadTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  /**
   * Returns the HTTP server codec (decoder and encoder) driving this clock; its decoder starts a
   * request only while {@code accepting} says so for its channel.
   */
  ChannelHandler codec(HttpDecoderConfig config, Predicate<Channel> accepting) {
    return new CombinedChannelDuplexHandler<>(new TimedRequestDecoder(config, accepting), new ResponseEncoder());
  }

  private final class TimedRequestDecoder extends HttpRequestDecoder {

    private final Predicate<Channel> accepting;

    TimedRequestDecoder(HttpDecoderConfig config, Predicate<Channel> accepting) {
      super(config);
      this.accepting = accepting;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      if (!inRequest && (closed || !accepting.test(ctx.channel()))) {
        // Between requests, and the handler takes no more (or the connection is gone, with no one
        // to answer): leave the bytes undecoded in the cumulation buffer. The decoder's loop stops
        // when a call consumes nothing; the handler fires a read to go on.
        return;
      }
      if (!inRequest && startsRequest(in)) {
        inRequest = true;
        arm(ctx);
      }
      int before = out.size();
      super.decode(ctx, in, out);
      for (int i = before; i < out.size(); i++) {
        Object message = out.get(i);
        if (message instanceof HttpRequest request) {
          methods.add(request.method());
        }
        if (message instanceof LastHttpContent) {
          stop();
        }
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof ChannelInputShutdownEvent) {
        // Not super's, which decodes what it can now and drops the rest: requests held back by
        // the handler's back-pressure are still to be answered (PipelinedHttpHandler).
        ctx.fireUserEventTriggered(evt);
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      closed = true; // the last decode of what is held (below) must not start a clock
      try {
        super.channelInactive(ctx);
      } finally {
        stop();
      }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
      stop();
      super.handlerRemoved0(ctx);
    }
  }

  /**
   * Whether {@code in} holds a byte of a request: anything the decoder does not skip between
   * requests, which is bytes up to a space (0x00-0x20); 0x7F-0xFF start a request line too.
   */
  private static boolean startsRequest(ByteBuf in) {
    return in.forEachByte(in.readerIndex(), in.readableBytes(), b -> (b & 0xff) <= 0x20) >= 0;
  }

  private final class ResponseEncoder extends HttpResponseEncoder {

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        return super.isContentAlwaysEmpty(msg); // an interim answer (100 Continue): its request's comes later
      }
      return HttpMethod.HEAD.equals(methods.poll()) || super.isContentAlwaysEmpty(msg);
    }
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
