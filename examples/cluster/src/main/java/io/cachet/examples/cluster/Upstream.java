package io.cachet.examples.cluster;

import io.cachet.examples.support.HttpErrors;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The balancer's HTTP client to the nodes: keep-alive connections pooled per event loop and node.
 *
 * <p>Design: a request is sent from the event loop of the client connection it serves, and every
 * connection it uses to a node belongs to that same event loop, so the pool is a plain
 * per-thread map of deques ({@link FastThreadLocal}) with no locks and no thread hops. A
 * connection goes back to its pool after a keep-alive response and is dropped on any error, or
 * once it has been idle for half the nodes' idle timeout: a node closes a connection idle for its
 * whole timeout, and a request written just as it does fails without telling whether the node
 * read it (a POST then gets "may or may not have been applied" for nothing).
 * Failures say whether the request may have reached the node: {@link NotSent} means the
 * connection or the write failed first, so even a POST can be retried elsewhere.
 */
final class Upstream {

  /** The request certainly did not reach the node: connecting or writing failed. */
  static final class NotSent extends IOException {
    private static final long serialVersionUID = 1L;

    NotSent(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }

  private static final int MAX_IDLE_PER_NODE = 256;

  /** A pooled connection, and the {@link #nanoTime} reading when it went idle. */
  private record Pooled(Channel channel, long idleSince) {}

  private final Bootstrap bootstrap;
  private final int maxResponseBytes;
  /** How long a connection may stay pooled; {@code Long.MAX_VALUE} when the nodes never close idle ones. */
  private final long maxPooledNanos;
  private final LongSupplier nanoTime;
  private final FastThreadLocal<Map<Backend, ArrayDeque<Pooled>>> idle = new FastThreadLocal<>() {
    @Override
    protected Map<Backend, ArrayDeque<Pooled>> initialValue() {
      return new HashMap<>();
    }
  };

  /**
   * @param nodeIdleTimeout how long a node keeps an idle connection open; zero: for ever
   * @param nanoTime the clock of the pool's idle times ({@code System::nanoTime} but in tests)
   */
  Upstream(int maxResponseBytes, Duration connectTimeout, Duration nodeIdleTimeout, LongSupplier nanoTime) {
    this.maxResponseBytes = maxResponseBytes;
    this.maxPooledNanos = nodeIdleTimeout.isZero() ? Long.MAX_VALUE : nodeIdleTimeout.toNanos() / 2;
    this.nanoTime = nanoTime;
    this.bootstrap = new Bootstrap()
        .channel(NettyTransport.clientChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            // Headers up to the servers' own limit: a node's Location echoes a key of up to 16 KiB.
            ch.pipeline().addLast(new HttpClientCodec(HttpObjectDecoder.DEFAULT_MAX_INITIAL_LINE_LENGTH,
                    HttpErrors.MAX_HEADER_SIZE, HttpObjectDecoder.DEFAULT_MAX_CHUNK_SIZE),
                new HttpObjectAggregator(Upstream.this.maxResponseBytes),
                new Exchange());
          }
        });
  }

  /**
   * Sends {@code request} (whose reference this call takes over) to {@code backend}; must run on
   * {@code loop}. The future completes on {@code loop} with the response, which the caller
   * releases, or fails with {@link NotSent}, {@link TimeoutException} or another
   * {@link IOException}.
   */
  Future<FullHttpResponse> send(EventLoop loop, Backend backend, FullHttpRequest request, Duration timeout) {
    Promise<FullHttpResponse> promise = loop.newPromise();
    ArrayDeque<Pooled> pool = idle.get().computeIfAbsent(backend, b -> new ArrayDeque<>());
    long now = nanoTime.getAsLong();
    for (Pooled pooled; (pooled = pool.pollLast()) != null; ) {
      if (pooled.channel().isActive() && now - pooled.idleSince() < maxPooledNanos) {
        exchange(pooled.channel(), backend, request, promise, timeout);
        return promise;
      }
      pooled.channel().close();
    }
    ChannelFuture connect = bootstrap.clone(loop).connect(backend.host, backend.port);
    connect.addListener(f -> {
      if (f.isSuccess()) {
        exchange(connect.channel(), backend, request, promise, timeout);
      } else {
        ReferenceCountUtil.release(request);
        promise.tryFailure(new NotSent("cannot connect to " + backend.id + " at " + backend.host + ":" + backend.port,
            f.cause()));
      }
    });
    return promise;
  }

  private void exchange(Channel channel, Backend backend, FullHttpRequest request, Promise<FullHttpResponse> promise,
      Duration timeout) {
    Exchange handler = channel.pipeline().get(Exchange.class);
    handler.begin(promise, channel.eventLoop().schedule(() -> {
      if (promise.tryFailure(new TimeoutException(backend.id + " did not answer within " + timeout.toMillis() + " ms"))) {
        channel.close();
      }
    }, timeout.toMillis(), TimeUnit.MILLISECONDS));
    channel.writeAndFlush(request).addListener(f -> {
      if (!f.isSuccess()) {
        handler.fail(new NotSent("cannot send to " + backend.id, f.cause()));
        channel.close();
      }
    });
    promise.addListener(f -> {
      if (f.isSuccess() && channel.isActive() && handler.reusable) {
        ArrayDeque<Pooled> pool = idle.get().computeIfAbsent(backend, b -> new ArrayDeque<>());
        if (pool.size() < MAX_IDLE_PER_NODE) {
          pool.addLast(new Pooled(channel, nanoTime.getAsLong()));
          return;
        }
      }
      channel.close();
    });
  }

  /** The one request in flight on a connection; completes its promise with the response. */
  private static final class Exchange extends ChannelInboundHandlerAdapter {
    private @Nullable Promise<FullHttpResponse> current;
    private @Nullable ScheduledFuture<?> timer;
    boolean reusable;

    void begin(Promise<FullHttpResponse> promise, ScheduledFuture<?> timeout) {
      current = promise;
      timer = timeout;
      reusable = false;
    }

    void fail(Throwable cause) {
      Promise<FullHttpResponse> p = current;
      current = null;
      cancelTimer();
      if (p != null) {
        p.tryFailure(cause);
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Promise<FullHttpResponse> p = current;
      if (!(msg instanceof FullHttpResponse response) || p == null) {
        ReferenceCountUtil.release(msg);
        ctx.close();
        return;
      }
      current = null;
      cancelTimer();
      if (!response.decoderResult().isSuccess()) { // a part of a response is not one to forward
        response.release();
        p.tryFailure(new IOException("the node's response could not be read: " + response.decoderResult().cause()));
        ctx.close();
        return;
      }
      reusable = HttpUtil.isKeepAlive(response);
      if (!p.trySuccess(response)) {
        response.release();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      fail(new IOException("the node closed the connection before answering"));
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(new IOException("connection to the node failed: " + cause.getMessage(), cause));
      ctx.close();
    }

    private void cancelTimer() {
      ScheduledFuture<?> t = timer;
      timer = null;
      if (t != null) {
        t.cancel(false);
      }
    }
  }
}
