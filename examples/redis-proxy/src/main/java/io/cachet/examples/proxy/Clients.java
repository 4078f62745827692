package io.cachet.examples.proxy;

import io.cachet.examples.support.Connections;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The MAX_CLIENTS admission count, shared by the HTTP and RESP servers. A connection is admitted
 * when it is registered, before any of its bytes are read, and counted until it closes; one past
 * the limit gets a {@link Rejecter} instead of the proxy's handlers, so existing clients are
 * unaffected. Thread-safe.
 */
final class Clients {

  private final int max;
  private final AtomicInteger connected = new AtomicInteger();

  Clients(int max) {
    this.max = max;
  }

  /** Counts a new connection if fewer than the maximum are open; returns whether it did. */
  boolean tryAdmit() {
    for (int current = connected.get(); current < max; current = connected.get()) {
      if (connected.compareAndSet(current, current + 1)) {
        return true;
      }
    }
    return false;
  }

  /** Uncounts a closed connection that was admitted. */
  void release() {
    connected.decrementAndGet();
  }

  /** Returns the number of admitted connections open now. */
  int connected() {
    return connected.get();
  }

  /**
   * Answers a refused connection with a fixed message (RESP {@code -ERR max number of clients
   * reached}, HTTP 503) as soon as it is active, discards what it sends, and closes it.
   */
  static final class Rejecter extends ChannelInboundHandlerAdapter {
    private final byte[] message;

    Rejecter(byte[] message) {
      this.message = message;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Connections.closeGracefully(ctx.channel(), Unpooled.wrappedBuffer(message));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
