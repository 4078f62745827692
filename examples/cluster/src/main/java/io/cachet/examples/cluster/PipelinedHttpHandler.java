package io.cachet.examples.cluster;

import io.cachet.examples.support.Connections;
import io.cachet.examples.support.Json;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * One HTTP connection answered one request at a time, in request order: a pipelining client's
 * later requests wait in a short queue, and the connection stops reading while it holds
 * {@code maxQueued} of them or {@link #MAX_QUEUED_BODY_BYTES} of their bodies (and reads again once
 * it is down to half of both): it turns auto-read
 * off, and the {@link ReadGate} in front of the codec keeps the decoders from reading on anyway.
 * Bytes already read may hold many more small requests than that: the decoder starts a new one
 * only while {@link #acceptingRequests}, keeping the rest undecoded until the queue is down to
 * half, then decodes them before the connection is read again ({@link #resumeDecoding}).
 * The next request is taken up only while the connection is writable, that is while the responses
 * queued for it stay under the write buffer's high water mark ({@code --max-queued-response-bytes}):
 * a client that pipelines requests and never reads makes the server hold at most that plus one
 * response, and the queue. A subclass handles each message in {@link #process}, marks a request it answers
 * later with {@link #markBusy()}, and ends it with {@link #reply} (which moves on to the next
 * request) or {@link #fatal}. An idle connection ({@code --idle-timeout}) is closed, and so is one
 * whose client took none of the responses waiting for it for that long (it pipelines and never
 * reads: it would hold its connection, its queue and a response forever); a request not received
 * whole in time ({@link RequestReadTimeout}) is answered 408, after the requests before it, and
 * closed. Everything runs on the connection's event loop. Not sharable: one instance per connection.
 */
abstract class PipelinedHttpHandler extends ChannelInboundHandlerAdapter {

  /** Requests queued behind the one in flight after which the connection stops reading, by default. */
  static final int MAX_QUEUED = 16;

  /**
   * Request body bytes queued behind the one in flight after which the connection stops reading:
   * so a client pipelining large bodies makes it hold at most this plus one body (up to
   * {@code --max-body}) besides the request in flight, not {@link #MAX_QUEUED} bodies.
   */
  static final long MAX_QUEUED_BODY_BYTES = 256 * 1024;

  private final int maxQueued;
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  /** The bytes of the bodies in {@link #queue}. */
  private long queuedBodyBytes;
  private boolean busy;
  private boolean closing;
  /** A request timed out behind earlier ones: its 408 waits in the queue, nothing more is read. */
  private boolean timedOut;
  /** The decoder declined to start a request: it holds bytes read and not decoded yet. */
  private boolean heldBack;
  private boolean resumeScheduled;
  /** {@link #drain} is running: an answer made meanwhile leaves the next request to its loop. */
  private boolean draining;
  /** The client shut down its sending side: once every request it sent is answered, close. */
  private boolean inputShutdown;
  /** {@link #channelRead} is running, inside the decoder's loop. */
  private boolean reading;

  PipelinedHttpHandler(int maxQueued) {
    if (maxQueued < 1) {
      throw new IllegalArgumentException("maxQueued must be >= 1, was " + maxQueued);
    }
    this.maxQueued = maxQueued;
  }

  /**
   * Whether the decoder in front may start decoding another request now: not while the queue
   * holds {@code maxQueued}, the client does not take its responses, or a request timed out. When
   * not, the decoder keeps what it read undecoded, this connection stops reading (so those bytes
   * are all it holds), and once the queue is down to half {@link #resumeDecoding} hands them to the
   * decoder again. Always while closing: the connection then drains its input (so the client reads
   * the last answer rather than a reset), and what is decoded is dropped, nothing held.
   */
  final boolean acceptingRequests(Channel channel) {
    if (closing || (!timedOut && queue.size() < maxQueued && queuedBodyBytes < MAX_QUEUED_BODY_BYTES
        && channel.isWritable())) {
      return true;
    }
    heldBack = true;
    // Usually off already; not when the write buffer filled and its event is still to come.
    channel.config().setAutoRead(false);
    return false;
  }

  @Override
  public final void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing || timedOut) {
      ReferenceCountUtil.release(msg);
      return;
    }
    queue.add(msg);
    queuedBodyBytes += bodyBytes(msg);
    if (queue.size() >= maxQueued || queuedBodyBytes >= MAX_QUEUED_BODY_BYTES) {
      ctx.channel().config().setAutoRead(false);
    }
    reading = true; // inside the decoder's loop, which may hold more requests: see channelReadComplete
    try {
      drain(ctx);
    } finally {
      reading = false;
    }
  }

  @Override
  public final void channelReadComplete(ChannelHandlerContext ctx) {
    closeIfAllAnswered(ctx); // the decoder's loop is done: what it holds now, it held back
    ctx.fireChannelReadComplete();
  }

  @Override
  public final void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (!ctx.channel().isWritable()) {
      ctx.channel().config().setAutoRead(false);
    } else {
      drain(ctx);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public final void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      // A client that sent its requests and shut down its side still gets their answers (a
      // POST applied and unanswered would look failed to it); then the connection closes.
      inputShutdown = true;
      if (closing) {
        // Closing already (an error answer lingering, a last answer being written): the client is
        // done sending, so close once what is queued is written, or it takes none of it for 2 s.
        Connections.closeWhenWritten(ctx.channel());
      } else {
        closeIfAllAnswered(ctx);
      }
      return;
    }
    if (evt instanceof IdleStateEvent) {
      // The idle handler observes output: this event means nothing was read, written or taken by
      // the socket for the idle timeout. Nothing owed: close. Responses waiting that the client
      // took none of: it does not read, and would hold its place (and the queue) forever. Only a
      // request in flight with nothing to write yet (a slow write to Kafka) keeps the connection.
      if (!closing && ((!busy && queue.isEmpty()) || unwrittenBytes(ctx) > 0)) {
        closing = true;
        ctx.close();
      }
      return;
    }
    if (evt instanceof RequestReadTimeout.TimedOut expired) {
      if (closing || timedOut || inputShutdown) {
        return; // after the client shut down its side, an incomplete request cannot complete: not answered
      }
      if (!busy && queue.isEmpty()) {
        fatal(ctx, requestTimeout(expired));
      } else {
        // Earlier requests are owed their answers first: a 408 read as the answer to a write
        // that was applied would have the client resend it.
        timedOut = true;
        queue.add(expired);
        ctx.channel().config().setAutoRead(false);
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  private static long bodyBytes(Object msg) {
    return msg instanceof ByteBufHolder holder ? holder.content().readableBytes() : 0;
  }

  private static long unwrittenBytes(ChannelHandlerContext ctx) {
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  private FullHttpResponse requestTimeout(RequestReadTimeout.TimedOut expired) {
    return HttpReplies.response(HttpVersion.HTTP_1_1, 408, ApiResponse.JSON,
        Json.error("RequestTimeout", "the request was not received whole within " + expired.timeout().toSeconds()
            + " s (--request-read-timeout / REQUEST_READ_TIMEOUT)"), timeoutHeaders(), false);
  }

  /** Headers every answer of this server carries (the node's or the balancer's id). */
  protected abstract java.util.Map<String, String> timeoutHeaders();

  @Override
  public final void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    queuedBodyBytes = 0;
    ctx.fireChannelInactive();
  }

  @Override
  public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Connection resets and the like: nobody to answer.
    ctx.close();
  }

  /**
   * Takes up queued requests, one at a time, while none is in flight, then reads on if the queue
   * is down to half. A request answered at once (its {@link #reply} comes from within
   * {@link #process}) does not call this again from there: the loop takes the next one, so a long
   * backlog of such requests costs no stack depth.
   */
  private void drain(ChannelHandlerContext ctx) {
    if (draining) {
      return; // called from a reply made within process(): the loop below goes on
    }
    draining = true;
    try {
      // Only while writable: a response is produced only once the previous ones have mostly been
      // taken by the socket, so a client that does not read holds the server to one response.
      while (!busy && !closing && ctx.channel().isWritable()) {
        Object next = queue.poll();
        if (next == null) {
          break;
        }
        queuedBodyBytes -= bodyBytes(next);
        if (next instanceof RequestReadTimeout.TimedOut expired) {
          fatal(ctx, requestTimeout(expired));
          break;
        }
        process(ctx, next);
      }
    } finally {
      draining = false;
    }
    readOnIfDue(ctx);
    closeIfAllAnswered(ctx);
  }

  /**
   * After the client shut down its sending side: closes the connection once nothing is in flight,
   * queued or held back undecoded, when what is written has been flushed (the idle timeout bounds
   * a client that then takes none of it). A request left incomplete is not answered.
   */
  private void closeIfAllAnswered(ChannelHandlerContext ctx) {
    if (inputShutdown && !closing && !reading && !busy && queue.isEmpty() && !heldBack && !resumeScheduled) {
      closing = true;
      Connections.closeWhenWritten(ctx.channel());
    }
  }

  /**
   * Once the queue is down to half and the client takes its responses: decodes the requests held
   * back first, and reads the connection again only when none are left, so the bytes held
   * undecoded never grow past what one read brought.
   */
  private void readOnIfDue(ChannelHandlerContext ctx) {
    if (closing || timedOut || queue.size() > maxQueued / 2 || queuedBodyBytes > MAX_QUEUED_BODY_BYTES / 2
        || !ctx.channel().isWritable()) {
      return;
    }
    if (heldBack) {
      resumeDecoding(ctx);
    } else if (!ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  /**
   * Has the decoder go on with the requests it read and held back: they may be all a pipelining
   * client sent, so new input cannot be waited for. Runs as a task of its own, never inside the
   * decoder's loop (this may be called from within it): an empty buffer fired from the pipeline's
   * head makes the decoder decode what it holds, until it holds back again or holds nothing.
   */
  private void resumeDecoding(ChannelHandlerContext ctx) {
    if (resumeScheduled) {
      return;
    }
    resumeScheduled = true;
    try {
      ctx.executor().execute(() -> {
        resumeScheduled = false;
        if (closing || !heldBack || !ctx.channel().isActive()) {
          return;
        }
        heldBack = false;
        ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
        ctx.pipeline().fireChannelReadComplete();
        readOnIfDue(ctx); // all decoded (or held back anew): read the socket, or wait for the queue
        closeIfAllAnswered(ctx);
      });
    } catch (RejectedExecutionException e) {
      resumeScheduled = false; // shutting down: nothing more will be answered
    }
  }

  /**
   * Handles one message taken off the queue, on the event loop: releases it, and either answers
   * it with {@link #fatal}, or calls {@link #markBusy()} and later {@link #reply}, or ignores it.
   */
  protected abstract void process(ChannelHandlerContext ctx, Object msg);

  /** Marks a request in flight: the queue waits until {@link #reply} answers it. */
  protected final void markBusy() {
    busy = true;
  }

  /** Whether the connection is closing (or closed): an answer still to come has nowhere to go. */
  protected final boolean closing() {
    return closing;
  }

  /**
   * Writes the answer to the request in flight and goes on with the next queued request; closes
   * the connection after it instead when not {@code keepAlive}. Releases it when already closing.
   */
  protected final void reply(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    busy = false;
    if (closing) {
      response.release();
      return;
    }
    if (keepAlive) {
      ctx.writeAndFlush(response, ctx.voidPromise());
      drain(ctx);
    } else if (inputShutdown) {
      closing = true;
      ctx.write(response, ctx.voidPromise());
      Connections.closeWhenWritten(ctx.channel()); // a client that takes none of it is not waited for
    } else {
      closing = true;
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Answers a request after which the connection cannot continue (malformed, oversized). */
  protected final void fatal(ChannelHandlerContext ctx, FullHttpResponse response) {
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    queuedBodyBytes = 0;
    Connections.closeGracefully(ctx.channel(), response);
  }

  /** Runs {@code task} on the connection's event loop: now when already there, else later. */
  protected static void onEventLoop(ChannelHandlerContext ctx, Runnable task) {
    if (ctx.executor().inEventLoop()) {
      task.run();
      return;
    }
    try {
      ctx.executor().execute(task);
    } catch (RejectedExecutionException e) {
      // Shutting down: the answer has nowhere to go.
    }
  }

  /** Visible for tests: whether a request is in flight. */
  final boolean busy() {
    return busy;
  }

  /** Visible for tests: the queued messages. */
  final int queued() {
    return queue.size();
  }
}
