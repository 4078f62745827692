package io.cachet.examples.cluster;

import io.cachet.examples.support.Connections;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * One HTTP connection answered one request at a time, in request order: a pipelining client's
 * later requests wait in a short queue, and the connection stops reading while it holds
 * {@value #MAX_QUEUED} (and reads again once half of them are answered). A subclass handles each
 * message in {@link #process}, marks a request it answers later with {@link #markBusy()}, and
 * ends it with {@link #reply} (which moves on to the next request) or {@link #fatal}. Everything
 * runs on the connection's event loop. Not sharable: one instance per connection.
 */
abstract class PipelinedHttpHandler extends ChannelInboundHandlerAdapter {

  /** Requests queued behind the one in flight after which the connection stops reading. */
  static final int MAX_QUEUED = 16;

  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private boolean busy;
  private boolean closing;

  @Override
  public final void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    queue.add(msg);
    if (queue.size() >= MAX_QUEUED) {
      ctx.channel().config().setAutoRead(false);
    }
    drain(ctx);
  }

  @Override
  public final void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    queue.forEach(ReferenceCountUtil::release);
    queue.clear();
    ctx.fireChannelInactive();
  }

  @Override
  public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Connection resets and the like: nobody to answer.
    ctx.close();
  }

  private void drain(ChannelHandlerContext ctx) {
    while (!busy && !closing) {
      Object next = queue.poll();
      if (next == null) {
        break;
      }
      process(ctx, next);
    }
    if (!closing && queue.size() <= MAX_QUEUED / 2 && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
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
