package io.cachet.examples.proxy;

import io.cachet.examples.support.Connections;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-connection core shared by the RESP and HTTP handlers: replies in request order,
 * the global {@link Parallelism} limit, back-pressure, and closing.
 *
 * <h2>Design notes</h2>
 *
 * <ul>
 *   <li><b>Order.</b> A client may send many requests before reading a reply (pipelining), and
 *       their answers may come back from Redis in any order. Each request that cannot be
 *       answered at once reserves a slot in a FIFO ({@link ReplyQueue}); replies are written
 *       from the head of the FIFO as slots fill, so they leave in request order. A request
 *       answered at once while the FIFO is empty (a near-cache hit, the common case) is written
 *       directly.
 *   <li><b>Threads.</b> Everything here runs on the connection's event loop. A cache stage
 *       completed elsewhere (Redisson's threads) hops back with {@code execute}. Nothing blocks:
 *       the cache is used only through its non-blocking {@code async()} view.
 *   <li><b>Parallelism.</b> A cache request runs only while it holds a permit; it releases the
 *       permit on the event loop once its reply is written (or queued behind earlier replies of
 *       the same connection). So with a limit of 1 the next request, from any client, starts
 *       only after the previous one has its answer.
 *   <li><b>Back-pressure.</b> A connection accepts no further request while it has
 *       {@code maxPending} unanswered keys (a request counts the keys it reads, at least one), or
 *       while the replies queued for it (written and
 *       not yet taken by its socket, plus completed ones waiting behind an earlier request) reach
 *       the channel's write-buffer high water mark ({@code MAX_QUEUED_REPLY_BYTES}). It then
 *       stops reading, and the decoder in front stops decoding the requests it has already read
 *       ({@link #acceptingRequests()}): a client that pipelines GETs of large values and never
 *       reads cannot make the proxy hold more than that bound plus the one reply that crossed it.
 *       It resumes at half the requests, once the socket drained below the low water mark, and
 *       then decodes what it had already read before reading more ({@link #resumeDecoding}).
 *   <li><b>Flushing.</b> Replies produced while a read is being processed are flushed once at
 *       the end of the read (one syscall for a whole pipeline); small ones are encoded into one
 *       output buffer ({@link #out()}). Replies completed later are flushed at once.
 *   <li><b>Closing.</b> After a fatal error the error reply is written, the output side is shut
 *       down (the client sees the reply, then end-of-stream) and input is drained for a short
 *       linger, so the client is not reset before it reads the reply.
 *   <li><b>Half-close.</b> A client that shuts down its sending side after its requests (as
 *       {@code nc -N} and some scripts do) still gets every reply, as from Redis: the connection
 *       stays open for writing until every complete request it sent is answered and flushed, and
 *       then closes ({@link #inputShutdown}). The bytes of a request left incomplete are
 *       discarded.
 * </ul>
 */
abstract class ClientHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ClientHandler.class);

  /**
   * How long a client that half-closed may take none of its replies before its connection is
   * closed: long enough for a slow reader to free a third of a socket's send buffer.
   */
  static final Duration HALF_CLOSED_STALL = Duration.ofSeconds(10);

  /**
   * How long a connection being closed (after {@code QUIT}, {@code Connection: close} or an error
   * reply) may have its client take none of the replies still queued before it is closed: as for
   * a half-closed client, so that one pausing between reads of a large reply is not cut off.
   */
  static final Duration CLOSING_STALL = HALF_CLOSED_STALL;

  /** Unanswered keys (requests, an MGET counting its keys) after which a connection stops reading, by default. */
  static final int MAX_PENDING = 1024;

  /** What to do after a reply is written. */
  enum After {
    KEEP,
    /** Close as soon as the reply is flushed (QUIT, HTTP {@code Connection: close}). */
    CLOSE,
    /** Shut down output, drain input for a while, then close (errors). */
    LINGER
  }

  /** A reply and what to do after it. */
  record Reply(Object message, After after) {}

  /** Turns a cache stage's outcome into a reply; runs on the event loop. */
  @FunctionalInterface
  interface Finisher<T> {
    Reply finish(@Nullable T value, @Nullable Throwable error);
  }

  /** Replies encoded straight into the output buffer flush it once it holds this much. */
  private static final int OUT_FLUSH_BYTES = 64 * 1024;
  /** The size of a streamed reply's chunks ({@link ArrayReplyStream}). */
  static final int STREAM_CHUNK_BYTES = 64 * 1024;
  /** The most chunks of a streamed reply written in one event-loop task (1 MiB). */
  static final int STREAM_CHUNKS_PER_TURN = 16;

  protected final Parallelism parallelism;
  protected final ProxyMetrics metrics;
  private final RequestStats.Protocol protocol;
  protected final int maxPending;
  /** The replies in request order; its keys are what {@code maxPending} bounds. */
  private final ReplyQueue pending = new ReplyQueue();
  private boolean resumeScheduled;
  /** A streamed reply is being written by {@link #stream}. */
  private boolean streaming;
  /** The client shut down its sending side: close once everything it sent is answered. */
  private boolean inputShutdown;
  private boolean closeCheckScheduled;
  /** The decoder was told to hold requests back since the close check cleared it. */
  private boolean heldBack;
  private @Nullable ChannelHandlerContext context;
  private RequestStats.@Nullable Recorder recorder;
  private @Nullable ByteBuf out;
  private boolean closing;
  private boolean reading;
  private boolean needsFlush;
  private long readStart;
  private int answeredInRead;

  ClientHandler(Parallelism parallelism, ProxyMetrics metrics, RequestStats.Protocol protocol, int maxPending) {
    if (maxPending < 1) {
      throw new IllegalArgumentException("maxPending must be >= 1, was " + maxPending);
    }
    this.parallelism = parallelism;
    this.metrics = metrics;
    this.protocol = protocol;
    this.maxPending = maxPending;
  }

  /**
   * Whether the decoder in front may hand over another request now; when not, it keeps the
   * bytes it holds undecoded until {@link #resumeDecoding} runs. Turns reading off meanwhile.
   */
  final boolean acceptingRequests() {
    if (closing) {
      return true; // whatever arrives is discarded; nothing is held
    }
    updateAutoRead();
    boolean accepting = !saturated();
    heldBack |= !accepting;
    return accepting;
  }

  /** Handles one decoded message; runs on the event loop. */
  protected abstract void onMessage(ChannelHandlerContext ctx, Object msg);

  /** Returns the reply for a client whose request stayed incomplete for the request timeout. */
  protected abstract Reply timedOut(ChannelHandlerContext ctx, RequestDeadline.TimedOut event);

  /**
   * Returns the reply, closing the connection, for a request whose reply could not be made
   * ({@code cause}: a bug, or memory exhausted); it names no detail of the cause.
   */
  protected abstract Reply internalError(ChannelHandlerContext ctx, Throwable cause);

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.context = ctx;
  }

  /** Counts a request's outcome, on this connection's event loop. */
  protected final void count(RequestStats.Outcome outcome) {
    recorder().count(outcome);
  }

  private RequestStats.Recorder recorder() {
    RequestStats.Recorder r = recorder;
    if (r == null) {
      // Created on the event loop that owns this connection; every call comes from it.
      r = metrics.stats().recorder();
      recorder = r;
    }
    return r;
  }

  /** Takes a decoded message directly from the decoder in front of this handler (same event loop). */
  final void directRead(Object msg) {
    channelRead(ctx(), msg);
  }

  @Override
  public final void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!reading) {
      reading = true;
      readStart = System.nanoTime();
      answeredInRead = 0;
    }
    onMessage(ctx, msg);
  }

  @Override
  public final void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    flushNow();
    updateAutoRead(); // the flush may have drained what held reading off, with no event to say so
    if (answeredInRead > 0) {
      recorder().latency(protocol, answeredInRead, System.nanoTime() - readStart);
      answeredInRead = 0;
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && !streaming) {
      drain(); // a reply streamed to the socket may go on
    } else {
      updateAutoRead();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof RequestDeadline.TimedOut timedOut && !closing) {
      reply(timedOut(ctx, timedOut));
      flushNow();
    } else if (evt instanceof IdleStateEvent && !closing) {
      ctx.close();
    } else if (evt instanceof ChannelInputShutdownEvent) {
      inputShutdown = true;
      // Whatever holds the connection open from here (replies it does not read, requests held
      // back behind them), a client that takes no byte for HALF_CLOSED_STALL is closed.
      Connections.closeWhenStalled(ctx.channel(), HALF_CLOSED_STALL);
      if (closing) {
        // Lingering after an error reply, or closing after QUIT: the client is done sending, so
        // close once what is queued is written (a write after the output's shutdown just fails).
        Connections.closeWhenWritten(ctx.channel(), CLOSING_STALL);
      } else {
        scheduleCloseCheck();
      }
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    releasePending();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    ByteBuf buffered = out;
    out = null;
    if (buffered != null) {
      buffered.release();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Connection resets and the like: nothing to answer, and nobody to answer it to.
    ctx.close();
  }

  /**
   * Runs a cache request under the parallelism limit and replies with what {@code finish}
   * makes of its outcome, in request order.
   */
  protected final <T> void submit(Supplier<? extends CompletionStage<T>> start, Finisher<T> finish) {
    submit(start, finish, 1);
  }

  /** {@link #submit(Supplier, Finisher)} for a request that reads {@code keys} keys (MGET). */
  protected final <T> void submit(Supplier<? extends CompletionStage<T>> start, Finisher<T> finish, int keys) {
    if (parallelism.tryAcquire()) {
      CompletableFuture<T> future = startSafely(start);
      if (future.isDone()) {
        deliver(null, future, finish); // the fast path: a near-cache hit, no slot
      } else {
        started(future, finish, keys);
      }
      return;
    }
    ReplyQueue.Slot slot = reserve(keys);
    parallelism.enqueue(ctx().executor(), () -> {
      if (closing) {
        parallelism.release();
        return;
      }
      CompletableFuture<T> future = startSafely(start);
      future.whenComplete((v, e) -> onEventLoop(() -> deliver(slot, future, finish)));
    });
  }

  /**
   * Continues a request that holds a permit and whose stage is not complete yet: replies, in
   * order, with what {@code finish} makes of its outcome, and releases the permit.
   */
  protected final <T> void started(CompletableFuture<T> future, Finisher<T> finish) {
    started(future, finish, 1);
  }

  private <T> void started(CompletableFuture<T> future, Finisher<T> finish, int keys) {
    ReplyQueue.Slot slot = reserve(keys);
    parallelism.awaitingRedis(1);
    future.whenComplete((v, e) -> onEventLoop(() -> deliver(slot, future, finish)));
  }

  /**
   * Whether a reply may be encoded straight into {@link #out()} now: nothing is waiting to be
   * answered before it and the connection is open.
   */
  protected final boolean canReplyNow() {
    return pending.isEmpty() && !closing;
  }

  /**
   * Returns the output buffer, for encoding a reply straight into it when {@link #canReplyNow()};
   * the caller then calls {@link #answered()}. Flushed at the end of the read.
   */
  protected final ByteBuf out() {
    ByteBuf buf = out;
    if (buf == null) {
      buf = ctx().alloc().ioBuffer(2048);
      out = buf;
    }
    needsFlush = true;
    return buf;
  }

  /** Records that a request was answered through {@link #out()}. */
  protected final void answered() {
    answeredInRead++;
    ByteBuf buf = out;
    if (buf != null && buf.readableBytes() >= OUT_FLUSH_BYTES) {
      pushOut();
    }
  }

  /** Starts a stage, turning an exception thrown by the call itself into a failed stage. */
  protected static <T> CompletableFuture<T> startSafely(Supplier<? extends CompletionStage<T>> start) {
    try {
      return start.get().toCompletableFuture();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Writes {@code reply} now if nothing is pending, else after the pending replies. */
  protected final void reply(Reply reply) {
    if (closing) {
      ReferenceCountUtil.release(reply.message());
      return;
    }
    if (reading) {
      answeredInRead++;
    }
    boolean streamed = reply.message() instanceof ArrayReplyStream;
    if (pending.isEmpty() && !streamed) {
      write(reply);
      return;
    }
    pending.addComplete(readStart, reply);
    if (streamed) {
      drain(); // it holds its place in the queue until the socket has taken it all
    } else {
      updateAutoRead();
    }
  }

  /** Whether this connection is closing; further messages are ignored. */
  protected final boolean closing() {
    return closing;
  }

  protected final ChannelHandlerContext ctx() {
    ChannelHandlerContext ctx = context;
    if (ctx == null) {
      throw new IllegalStateException("handler not added to a pipeline");
    }
    return ctx;
  }

  private ReplyQueue.Slot reserve(int keys) {
    ReplyQueue.Slot slot = pending.reserve(readStart, keys);
    updateAutoRead();
    return slot;
  }

  private <T> void deliver(ReplyQueue.@Nullable Slot slot, CompletableFuture<T> future, Finisher<T> finish) {
    try {
      T value = null;
      Throwable error = null;
      try {
        value = future.join();
      } catch (CompletionException | CancellationException e) {
        error = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      }
      Reply reply;
      try {
        reply = finish.finish(value, error);
      } catch (RuntimeException | Error e) {
        // A reply that cannot be made must not leave its slot empty: every later reply would wait
        // behind it for good. The client learns it, and the connection is closed.
        LOG.warn("A reply to {} could not be made; closing the connection", ctx().channel().remoteAddress(), e);
        reply = internalError(ctx(), e);
      }
      if (slot == null) {
        reply(reply);
      } else if (closing) {
        parallelism.awaitingRedis(-1);
        ReferenceCountUtil.release(reply.message());
      } else {
        parallelism.awaitingRedis(-1);
        recorder().latency(protocol, 1, System.nanoTime() - slot.start);
        pending.fill(slot, reply);
        drain();
      }
    } finally {
      parallelism.release();
    }
  }

  private void onEventLoop(Runnable task) {
    ChannelHandlerContext ctx = ctx();
    if (ctx.executor().inEventLoop()) {
      task.run();
      return;
    }
    try {
      ctx.executor().execute(task);
    } catch (RejectedExecutionException e) {
      parallelism.release(); // shutting down: the reply has nowhere to go, but the permit must
    }
  }

  private void drain() {
    boolean wrote = false;
    Reply ready;
    while (!closing && (ready = pending.peekReady()) != null) {
      wrote = true;
      if (ready.message() instanceof ArrayReplyStream stream) {
        if (!stream(stream)) {
          break; // the socket is full: its writability resumes the stream, in its place
        }
        pending.pollReady();
      } else {
        pending.pollReady();
        write(ready);
      }
    }
    if (wrote && !reading) {
      flushNow();
    }
    updateAutoRead();
    if (inputShutdown && pending.isEmpty()) {
      scheduleCloseCheck();
    }
  }

  /**
   * After the client shut down its sending side: closes the connection, once its replies are
   * flushed, when every complete request it sent has been answered. Runs as a task of its own:
   * it first has the decoder go on with the requests it held back (as {@link #resumeDecoding}
   * does), since their bytes may be all that is left, and closes only if that left nothing to
   * answer and nothing held back; what the decoder keeps then is an incomplete request. While
   * requests are outstanding, the next answer that empties {@link #pending} checks again.
   */
  private void scheduleCloseCheck() {
    if (closeCheckScheduled || closing) {
      return;
    }
    closeCheckScheduled = true;
    ChannelHandlerContext ctx = ctx();
    ctx.executor().execute(() -> {
      closeCheckScheduled = false;
      if (closing || !ctx.channel().isActive() || !pending.isEmpty() || saturated()) {
        return; // an answer that empties pending, or writability, checks again
      }
      heldBack = false;
      ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
      ctx.pipeline().fireChannelReadComplete();
      // Held back in this pass: the flush may have made room again (a resume and a new check are
      // then scheduled), but those requests are still undecoded.
      if (!closing && !heldBack && pending.isEmpty() && !saturated()) {
        closing = true;
        // Bounded by the stall watch started at the half-close: a slow reader gets every reply.
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    });
  }

  private void write(Reply reply) {
    ChannelHandlerContext ctx = ctx();
    pushOut();
    switch (reply.after()) {
      case KEEP -> {
        ctx.write(reply.message(), ctx.voidPromise());
        needsFlush = true;
      }
      case CLOSE -> {
        closing = true;
        ctx.write(reply.message(), ctx.voidPromise());
        Connections.closeWhenWritten(ctx.channel(), CLOSING_STALL);
        releasePending();
      }
      case LINGER -> {
        closing = true;
        if (needsFlush) {
          needsFlush = false;
          ctx.flush();
        }
        Connections.closeGracefully(ctx.channel(), reply.message(), CLOSING_STALL);
        releasePending();
      }
    }
  }

  /**
   * Writes the next chunks of a streamed reply while the channel is writable (flushing when it is
   * not, in case the socket takes them at once); returns whether the reply was all written. The
   * stream stays at the head of {@link #pending} meanwhile, so nothing overtakes it. At most the
   * write buffer's high water mark plus one chunk is queued for the socket at a time, and at most
   * {@value #STREAM_CHUNKS_PER_TURN} chunks are written per event-loop task: a client that reads as
   * fast as they come must not keep the loop's other connections waiting for the whole reply.
   */
  private boolean stream(ArrayReplyStream stream) {
    ChannelHandlerContext ctx = ctx();
    Channel channel = ctx.channel();
    pushOut();
    streaming = true; // a writability change fired by our own flush must not re-enter drain()
    try {
      int chunks = 0;
      while (true) {
        while (channel.isWritable()) {
          if (chunks++ == STREAM_CHUNKS_PER_TURN) {
            flushNow();
            ctx.executor().execute(this::drain); // the rest in a later task, after the others'
            return false;
          }
          ByteBuf chunk = stream.next(ctx.alloc(), STREAM_CHUNK_BYTES);
          if (chunk == null) {
            return true;
          }
          ctx.write(chunk, ctx.voidPromise());
          needsFlush = true;
        }
        flushNow();
        if (closing || !channel.isActive() || !channel.isWritable()) {
          return false;
        }
      }
    } finally {
      streaming = false;
    }
  }

  /** Queues the output buffer for writing, in order before whatever is written next. */
  private void pushOut() {
    ByteBuf buf = out;
    if (buf != null) {
      out = null;
      if (buf.isReadable()) {
        ctx().write(buf, ctx().voidPromise());
        needsFlush = true;
      } else {
        buf.release();
      }
    }
  }

  private void flushNow() {
    pushOut();
    if (needsFlush) {
      needsFlush = false;
      ctx().flush();
    }
  }

  private void releasePending() {
    pending.releaseAll();
  }

  /**
   * Whether this connection holds as much as it may: {@code maxPending} unanswered keys, or
   * queued reply bytes at the write buffer's high water mark (Netty counts what was written and
   * not yet taken by the socket; the completed replies waiting in {@link #pending} and the
   * output buffer not yet written count against what is left of it).
   */
  private boolean saturated() {
    ChannelHandlerContext ctx = context;
    if (ctx == null) {
      return false;
    }
    Channel channel = ctx.channel();
    return pending.keys() >= maxPending || !channel.isWritable() || heldBytes() >= channel.bytesBeforeUnwritable();
  }

  private long heldBytes() {
    ByteBuf buf = out;
    return pending.bytes() + (buf == null ? 0 : buf.readableBytes());
  }

  private void updateAutoRead() {
    ChannelHandlerContext ctx = context;
    if (ctx == null || closing) {
      return;
    }
    Channel channel = ctx.channel();
    boolean autoRead = channel.config().isAutoRead();
    if (autoRead && saturated()) {
      channel.config().setAutoRead(false);
    } else if (!autoRead && pending.keys() <= maxPending / 2 && channel.isWritable()
        && heldBytes() < channel.bytesBeforeUnwritable() / 2) {
      channel.config().setAutoRead(true);
      resumeDecoding(ctx);
      if (inputShutdown) {
        scheduleCloseCheck();
      }
    }
  }

  /**
   * Has the decoder go on with the requests it read and held back while this connection was
   * saturated; they may be all a pipelining client sent, so new input cannot be waited for.
   * Runs as a task of its own, never inside a decoder's loop: an empty buffer fired from the
   * pipeline's head makes the decoder decode its held bytes.
   */
  private void resumeDecoding(ChannelHandlerContext ctx) {
    if (resumeScheduled) {
      return;
    }
    resumeScheduled = true;
    ctx.executor().execute(() -> {
      resumeScheduled = false;
      if (!closing && ctx.channel().isActive() && ctx.channel().config().isAutoRead()) {
        ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
        ctx.pipeline().fireChannelReadComplete();
      }
    });
  }
}
