package io.cachet.examples.proxy;

import io.cachet.examples.proxy.ClientHandler.Reply;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * One connection's replies in request order: a FIFO of slots, one per request not yet answered
 * on the wire, filled as answers arrive in any order and taken from the head once complete. It
 * counts what the connection's bounds are about: the keys its requests read
 * ({@code MAX_PENDING_REQUESTS}) and the bytes of complete replies waiting behind an earlier one
 * (part of {@code MAX_QUEUED_REPLY_BYTES}). Confined to the connection's event loop.
 */
final class ReplyQueue {

  /** A reserved place in the reply order, when its request's read started, and the keys it reads. */
  static final class Slot {
    final long start;
    final int keys;
    private @Nullable Reply reply;

    private Slot(long start, int keys) {
      this.start = start;
      this.keys = keys;
    }
  }

  private final ArrayDeque<Slot> slots = new ArrayDeque<>();
  /** Keys of the requests in {@link #slots}. */
  private long keys;
  /** Bytes of the replies in {@link #slots} that are complete and wait for an earlier one. */
  private long bytes;

  /** Whether no request waits for its reply to be written. */
  boolean isEmpty() {
    return slots.isEmpty();
  }

  /** Keys read by the requests waiting for their replies. */
  long keys() {
    return keys;
  }

  /** Bytes of the complete replies waiting behind an earlier one. */
  long bytes() {
    return bytes;
  }

  /** Reserves the next place, for a request started at {@code start} that reads {@code keys} keys. */
  Slot reserve(long start, int keys) {
    Slot slot = new Slot(start, keys);
    slots.add(slot);
    this.keys += keys;
    return slot;
  }

  /** Queues a reply made at once, behind the replies still awaited (a request of one key). */
  void addComplete(long start, Reply reply) {
    fill(reserve(start, 1), reply);
  }

  /** Completes {@code slot} with {@code reply}. */
  void fill(Slot slot, Reply reply) {
    slot.reply = reply;
    bytes += size(reply.message());
  }

  /** Returns the head's reply if it is complete, leaving it in place; null if none is ready. */
  @Nullable Reply peekReady() {
    Slot head = slots.peek();
    return head == null ? null : head.reply;
  }

  /** Removes and returns the head's reply if it is complete; null if none is ready. */
  @Nullable Reply pollReady() {
    Slot head = slots.peek();
    if (head == null || head.reply == null) {
      return null;
    }
    slots.poll();
    keys -= head.keys;
    bytes -= size(head.reply.message());
    return head.reply;
  }

  /** Releases every complete reply and forgets every slot (the connection is closing). */
  void releaseAll() {
    for (Slot slot : slots) {
      if (slot.reply != null) {
        ReferenceCountUtil.release(slot.reply.message());
      }
    }
    slots.clear();
    keys = 0;
    bytes = 0;
  }

  private static long size(Object message) {
    if (message instanceof ByteBuf buf) {
      return buf.readableBytes();
    }
    if (message instanceof ByteBufHolder holder) {
      return holder.content().readableBytes();
    }
    return 0;
  }
}
