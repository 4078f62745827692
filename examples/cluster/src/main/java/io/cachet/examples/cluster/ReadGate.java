package io.cachet.examples.cluster;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;

/**
 * Makes "auto-read off" mean "read nothing": first in an HTTP connection's pipeline, it drops
 * every {@code read()} asked for while the connection's auto-read is off. {@link
 * PipelinedHttpHandler} pauses a connection by turning auto-read off (its request queue is full,
 * or the client does not take its responses), but Netty's {@code ByteToMessageDecoder} and
 * {@code MessageAggregator} call {@code ctx.read()} whenever a read ends in the middle of a
 * message, even with auto-read off; a client streaming large bodies would end nearly every read
 * mid-body and so be read on without end, its requests piling up in the queue. Turning auto-read
 * back on issues a read of its own, which passes. Stateless and sharable.
 */
@ChannelHandler.Sharable
final class ReadGate extends ChannelOutboundHandlerAdapter {

  /** The one instance; it keeps no state. */
  static final ReadGate INSTANCE = new ReadGate();

  private ReadGate() {}

  @Override
  public void read(ChannelHandlerContext ctx) {
    if (ctx.channel().config().isAutoRead()) {
      ctx.read();
    }
  }
}
