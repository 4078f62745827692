package io.cachet.examples.support;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server's limit on open client connections, shared by all its listeners. A connection is
 * admitted when it is registered, before any of its bytes are read, and counted until it closes;
 * one past the limit gets a {@link Rejecter} instead of the server's handlers, so the connections
 * already open are unaffected. Thread-safe.
 */
public final class ConnectionLimit {

  private final int max;
  private final AtomicInteger connected = new AtomicInteger();

  /**
   * Creates a limit.
   *
   * @param max the most connections open at once, at least 1
   */
  public ConnectionLimit(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be >= 1, was " + max);
    }
    this.max = max;
  }

  /**
   * Counts a new connection if fewer than the maximum are open.
   *
   * @return whether it was admitted; if so, {@link #release()} it when it closes
   */
  public boolean tryAdmit() {
    for (int current = connected.get(); current < max; current = connected.get()) {
      if (connected.compareAndSet(current, current + 1)) {
        return true;
      }
    }
    return false;
  }

  /** Uncounts a closed connection that was admitted. */
  public void release() {
    connected.decrementAndGet();
  }

  /**
   * Returns the number of admitted connections open now.
   *
   * @return the count
   */
  public int connected() {
    return connected.get();
  }

  /**
   * Returns the limit.
   *
   * @return the most connections open at once
   */
  public int max() {
    return max;
  }

  /**
   * Answers a refused connection with a fixed message (an HTTP 503, a RESP error) as soon as it
   * is active, discards what it sends, and closes it.
   */
  public static final class Rejecter extends ChannelInboundHandlerAdapter {
    private final byte[] message;

    /**
     * Creates a rejecter.
     *
     * @param message the raw bytes sent before closing
     */
    public Rejecter(byte[] message) {
      this.message = message.clone();
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
