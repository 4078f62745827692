package io.cachet.examples.support;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.DuplexChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** Ending a client connection from the server side. */
public final class Connections {

  /** How long a connection closed after an error keeps draining input, so the client reads the answer. */
  public static final long LINGER_MILLIS = 2_000;

  private Connections() {}

  /**
   * Sends {@code message} as the last thing on {@code channel}, then shuts its output down and
   * drains input for {@value #LINGER_MILLIS} ms at most before closing, so the client is not reset
   * before it reads the answer. While the replies queued before it, and it, are still being
   * written, the connection stays open as long as the client takes some of them every
   * {@value #LINGER_MILLIS} ms; a client that takes nothing for that long is closed then: one
   * that does not read cannot keep the connection open.
   *
   * @param channel the client's connection
   * @param message the last reply, e.g. an error response
   */
  public static void closeGracefully(Channel channel, Object message) {
    closeGracefully(channel, message, Duration.ofMillis(LINGER_MILLIS));
  }

  /**
   * As {@link #closeGracefully(Channel, Object)}, but while the replies queued before
   * {@code message}, and it, are being written, the client may take none of their bytes for
   * {@code stall} before it is closed (rather than {@value #LINGER_MILLIS} ms): for a server
   * whose replies may be large, so that a client that pauses reading is not cut off mid-reply. The
   * linger after the last byte stays {@value #LINGER_MILLIS} ms.
   *
   * @param channel the client's connection
   * @param message the last reply, e.g. an error response
   * @param stall how long the client may take no byte of what is queued
   */
  public static void closeGracefully(Channel channel, Object message, Duration stall) {
    channel.config().setAutoRead(true);
    ChannelFuture written = channel.writeAndFlush(message);
    written.addListener((ChannelFutureListener) f -> {
      if (f.isSuccess() && f.channel() instanceof DuplexChannel duplex && duplex.isActive()) {
        duplex.shutdownOutput();
        duplex.eventLoop().schedule(() -> duplex.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
      } else {
        f.channel().close();
      }
    });
    if (!written.isDone()) {
      closeIfStalled(channel, written, pendingBytes(channel), stall.toMillis());
    }
  }

  /**
   * Closes {@code channel} once everything queued on it is written (for a client that is done
   * sending: it half-closed, or asked to quit). As with {@link #closeGracefully}, a client that
   * takes none of those bytes for {@value #LINGER_MILLIS} ms is closed then.
   *
   * @param channel the client's connection
   */
  public static void closeWhenWritten(Channel channel) {
    closeWhenWritten(channel, Duration.ofMillis(LINGER_MILLIS));
  }

  /**
   * As {@link #closeWhenWritten(Channel)}, but a client may take none of the queued bytes for
   * {@code stall} before it is closed.
   *
   * @param channel the client's connection
   * @param stall how long the client may take no byte of what is queued
   */
  public static void closeWhenWritten(Channel channel, Duration stall) {
    ChannelFuture written = channel.writeAndFlush(Unpooled.EMPTY_BUFFER);
    written.addListener(ChannelFutureListener.CLOSE);
    if (!written.isDone()) {
      closeIfStalled(channel, written, pendingBytes(channel), stall.toMillis());
    }
  }

  /**
   * Watches {@code channel} until it closes, and closes it when its client has taken none of the
   * bytes flushed to it for {@code stall} (checked every second, so within {@code stall} + 1 s):
   * for a connection whose client is done sending (it half-closed), which could otherwise hold its
   * place for as long as it neither reads nor closes. Progress is any byte the socket took: the
   * message being written advanced, another took its place, or fewer bytes are queued. The socket
   * takes bytes in steps of about a third of its send buffer as its client reads, so {@code stall}
   * should leave a slow reader time for one step. A connection with nothing flushed and unwritten
   * is never closed by this.
   *
   * @param channel the client's connection
   * @param stall how long the client may take no byte
   */
  public static void closeWhenStalled(Channel channel, Duration stall) {
    new StallWatch(channel, stall.toNanos()).arm();
  }

  /** The state of {@link #closeWhenStalled}: what was being written, how far, how much was queued, and since when. */
  private static final class StallWatch implements Runnable {
    private static final long PERIOD_MILLIS = 1_000;
    private final Channel channel;
    private final long stallNanos;
    private @Nullable Object head;
    private long progress;
    private long pending;
    private long unchangedSince = System.nanoTime();

    StallWatch(Channel channel, long stallNanos) {
      this.channel = channel;
      this.stallNanos = stallNanos;
    }

    void arm() {
      channel.eventLoop().schedule(this, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
      if (!channel.isActive()) {
        return;
      }
      ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
      Object current = buffer == null ? null : buffer.current();
      long now = buffer == null ? 0 : buffer.currentProgress();
      long queued = buffer == null ? 0 : buffer.totalPendingWriteBytes();
      long nowNanos = System.nanoTime();
      if (current == null || current != head || now != progress || queued != pending) {
        head = current;
        progress = now;
        pending = queued;
        unchangedSince = nowNanos;
      } else if (nowNanos - unchangedSince >= stallNanos) {
        channel.close();
        return;
      }
      arm();
    }
  }

  /** Closes {@code channel} if none of its queued bytes were written in the last {@code stallMillis}. */
  private static void closeIfStalled(Channel channel, ChannelFuture written, long pendingBefore, long stallMillis) {
    channel.eventLoop().schedule(() -> {
      if (written.isDone() || !channel.isActive()) {
        return;
      }
      long pending = pendingBytes(channel);
      if (pending >= pendingBefore) {
        channel.close();
      } else {
        closeIfStalled(channel, written, pending, stallMillis);
      }
    }, Math.max(1, stallMillis), TimeUnit.MILLISECONDS);
  }

  /**
   * Bytes queued on {@code channel} and not yet taken by its socket: the queued messages' sizes
   * less what was already written of the first (a message leaves the count only once written whole).
   */
  private static long pendingBytes(Channel channel) {
    ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes() - buffer.currentProgress();
  }
}
