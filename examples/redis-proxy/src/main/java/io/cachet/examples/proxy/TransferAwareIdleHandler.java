package io.cachet.examples.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The idle timeout of a connection ({@code IDLE_TIMEOUT}, {@code HTTP_IDLE_TIMEOUT}): no traffic
 * either way for the timeout. Netty's {@link IdleStateHandler} counts a write as traffic only once
 * the whole message is written, so a client steadily taking a large reply, which the proxy writes
 * as one message, looked idle and was cut off mid-reply. Here a reply the client took bytes of
 * since the last check counts as traffic. A client that takes none is closed one idle period later
 * than otherwise (or sooner by the reply-stall timeout).
 */
final class TransferAwareIdleHandler extends IdleStateHandler {

  /** The reply being written at the last idle check that found one, and how much of it was left. */
  private @Nullable Object lastCurrent;
  private long lastLeft = -1;

  TransferAwareIdleHandler(long idleMillis) {
    super(0, 0, idleMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) throws Exception {
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    Object current = buffer == null ? null : buffer.current();
    if (current != null) {
      // A partly written message keeps its place in the buffer's count of pending bytes; its own
      // readable bytes shrink as the socket takes them.
      long left = current instanceof ByteBuf buf ? buf.readableBytes() : buffer.totalPendingWriteBytes();
      if (current != lastCurrent || left != lastLeft) {
        lastCurrent = current; // taken from since the last check (or a first look): not idle
        lastLeft = left;
        return;
      }
    }
    lastCurrent = null;
    lastLeft = -1;
    super.channelIdle(ctx, evt);
  }
}
