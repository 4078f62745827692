package io.cachet.examples.support;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;

/** Ending a client connection from the server side. */
public final class Connections {

  /** How long a connection closed after an error keeps draining input, so the client reads the answer. */
  public static final long LINGER_MILLIS = 2_000;

  private Connections() {}

  /**
   * Sends {@code message} as the last thing on {@code channel}, then shuts its output down and
   * drains input, closing {@value #LINGER_MILLIS} ms after this call at most, so the client is not
   * reset before it reads the answer. The close comes then whatever happened to the write: a
   * client that does not read cannot keep the connection open.
   *
   * @param channel the client's connection
   * @param message the last reply, e.g. an error response
   */
  public static void closeGracefully(Channel channel, Object message) {
    channel.config().setAutoRead(true);
    channel.eventLoop().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    channel.writeAndFlush(message).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess() && f.channel() instanceof DuplexChannel duplex && duplex.isActive()) {
        duplex.shutdownOutput();
      } else {
        f.channel().close();
      }
    });
  }
}
