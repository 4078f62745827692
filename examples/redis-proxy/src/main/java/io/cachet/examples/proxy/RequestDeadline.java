package io.cachet.examples.proxy;

import io.netty.channel.ChannelHandlerContext;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Disconnects a client that starts a request and does not finish sending it in time (a
 * "slowloris", or an idle client holding half a frame), so it cannot pin a connection slot and
 * a partly filled buffer forever. A decoder reports after each read whether it holds an
 * incomplete request; when one has been incomplete for the whole timeout, the decoder's channel
 * pipeline gets a {@link TimedOut} user event.
 *
 * <p>At most one timer is pending per connection; it re-arms itself for the remaining time when
 * the request it was armed for completed and a newer one is pending. A request is not timed while
 * the proxy holds reading off: a timer that finds reading off re-arms for a whole timeout from
 * then. Event-loop confined.
 */
final class RequestDeadline {

  /** The user event fired when a request stayed incomplete for the whole timeout. */
  record TimedOut(Duration timeout) {}

  private final long timeoutNanos;
  private final Duration timeout;
  private final LongSupplier clock;
  private long incompleteSince = -1;
  private boolean armed;

  RequestDeadline(Duration timeout) {
    this(timeout, System::nanoTime);
  }

  /** For tests: {@code clock} must move with the event loop's scheduler clock. */
  RequestDeadline(Duration timeout, LongSupplier clock) {
    this.timeout = timeout;
    this.timeoutNanos = timeout.toNanos();
    this.clock = clock;
  }

  /** Records whether the decoder holds an incomplete request after the bytes it just read. */
  void update(ChannelHandlerContext ctx, boolean incomplete) {
    if (!incomplete) {
      incompleteSince = -1;
      return;
    }
    if (incompleteSince < 0) {
      incompleteSince = clock.getAsLong();
      if (!armed) {
        arm(ctx, timeoutNanos);
      }
    }
  }

  private void arm(ChannelHandlerContext ctx, long delayNanos) {
    armed = true;
    ctx.executor().schedule(() -> fire(ctx), delayNanos, TimeUnit.NANOSECONDS);
  }

  private void fire(ChannelHandlerContext ctx) {
    armed = false;
    if (incompleteSince < 0 || !ctx.channel().isActive()) {
      return;
    }
    long now = clock.getAsLong();
    if (!ctx.channel().config().isAutoRead()) {
      // The proxy holds reading off (replies the client has not taken yet): the rest of the
      // request may be waiting unread in the socket, so the client is not late. It gets a whole
      // timeout again from now; a client that takes no reply is the reply stall watch's to close.
      incompleteSince = now;
      arm(ctx, timeoutNanos);
      return;
    }
    long remaining = incompleteSince + timeoutNanos - now;
    if (remaining > 0) {
      arm(ctx, remaining);
      return;
    }
    incompleteSince = -1;
    // From the head, so the decoder itself learns it too and discards what follows.
    ctx.pipeline().fireUserEventTriggered(new TimedOut(timeout));
  }

  /** For tests: whether an incomplete request is being timed. */
  boolean timing() {
    return incompleteSince >= 0;
  }

  /** Returns a deadline for {@code timeout}, or null when it is zero (no limit). */
  static @Nullable RequestDeadline of(Duration timeout) {
    return timeout.isZero() ? null : new RequestDeadline(timeout);
  }
}
