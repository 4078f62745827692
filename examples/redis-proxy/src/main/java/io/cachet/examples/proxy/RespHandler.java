package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.cachet.AsyncCache;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Answers the Redis protocol: {@code GET}, {@code MGET}, {@code PING}, {@code ECHO},
 * {@code QUIT} and {@code COMMAND}; every other command gets Redis's
 * {@code -ERR unknown command} (the proxy is read-only). {@code GET} and {@code MGET} read the
 * cache under the parallelism limit; the others are answered at once. Replies leave in request
 * order (see {@link ClientHandler}).
 *
 * <p>The hot path, a {@code GET} answered by the near cache while no earlier reply is pending,
 * encodes the reply straight into the connection's output buffer: no per-request objects beyond
 * what the cache's own call allocates. One instance per connection.
 */
final class RespHandler extends ClientHandler {

  static final byte[] GET = bytes("GET");
  static final byte[] MGET = bytes("MGET");
  static final byte[] PING = bytes("PING");
  static final byte[] ECHO = bytes("ECHO");
  static final byte[] QUIT = bytes("QUIT");
  static final byte[] COMMAND = bytes("COMMAND");

  private final AsyncCache<RedisKey, byte[]> cache;
  private final Finisher<byte[]> getFinisher = this::finishGet;

  RespHandler(AsyncCache<RedisKey, byte[]> cache, Parallelism parallelism, ProxyMetrics metrics) {
    this(cache, parallelism, metrics, MAX_PENDING);
  }

  /** @param maxPending unanswered keys (an MGET counts its keys) after which the connection stops reading */
  RespHandler(AsyncCache<RedisKey, byte[]> cache, Parallelism parallelism, ProxyMetrics metrics, int maxPending) {
    super(parallelism, metrics, RequestStats.Protocol.RESP, maxPending);
    this.cache = cache;
  }

  @Override
  protected void onMessage(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof RespDecoder.ProtocolError error) {
      count(RequestStats.Outcome.RESP_ERROR);
      reply(new Reply(Resp.error(ctx.alloc(), "ERR Protocol error: " + error.message()), After.LINGER));
      return;
    }
    List<byte[]> args = ((RespDecoder.Command) msg).args();
    byte[] name = args.get(0);
    ByteBufAllocator alloc = ctx.alloc();
    if (Resp.is(name, GET)) {
      if (args.size() != 2) {
        fail(alloc, wrongArity("get"));
      } else {
        get(args.get(1));
      }
    } else if (Resp.is(name, MGET)) {
      mget(ctx, args);
    } else if (Resp.is(name, PING)) {
      if (args.size() > 2) {
        fail(alloc, wrongArity("ping"));
      } else {
        ok(args.size() == 1 ? Resp.simple(alloc, "PONG") : Resp.bulk(alloc, args.get(1)));
      }
    } else if (Resp.is(name, ECHO)) {
      if (args.size() != 2) {
        fail(alloc, wrongArity("echo"));
      } else {
        ok(Resp.bulk(alloc, args.get(1)));
      }
    } else if (Resp.is(name, QUIT)) {
      count(RequestStats.Outcome.RESP_OK);
      reply(new Reply(Resp.simple(alloc, "OK"), After.CLOSE));
    } else if (Resp.is(name, COMMAND)) {
      ByteBuf reply = CommandTable.reply(alloc, args);
      count(reply.getByte(reply.readerIndex()) == '-' ? RequestStats.Outcome.RESP_ERROR : RequestStats.Outcome.RESP_OK);
      reply(new Reply(reply, After.KEEP));
    } else {
      fail(alloc, unknownCommand(args));
    }
  }

  @Override
  protected Reply internalError(ChannelHandlerContext ctx, Throwable cause) {
    count(RequestStats.Outcome.RESP_ERROR);
    return new Reply(Resp.error(ctx.alloc(), "ERR internal error: the reply could not be made"), After.LINGER);
  }

  @Override
  protected Reply timedOut(ChannelHandlerContext ctx, RequestDeadline.TimedOut event) {
    count(RequestStats.Outcome.RESP_ERROR);
    return new Reply(Resp.error(ctx.alloc(),
        "ERR Protocol error: request not completed within " + ProxyMetrics.seconds(event.timeout()) + " s"), After.LINGER);
  }

  private void get(byte[] keyBytes) {
    RedisKey key = RedisKey.wrap(keyBytes); // the decoder's own copy: keys are any bytes, as in Redis
    if (!canReplyNow() || !parallelism.tryAcquire()) {
      submit(() -> cache.get(key), getFinisher);
      return;
    }
    // Holding a permit: a near-cache hit is answered here, without a slot or a Reply.
    CompletableFuture<byte[]> future = startSafely(() -> cache.get(key));
    byte[] value;
    try {
      if (!future.isDone()) {
        started(future, getFinisher);
        return;
      }
      value = future.getNow(null);
    } catch (CompletionException | CancellationException e) {
      started(future, getFinisher); // completes at once with the error reply
      return;
    }
    parallelism.release();
    if (value != null && value.length >= Resp.WRAP_THRESHOLD) {
      reply(finishGet(value, null)); // sent from the cached array itself, not copied
      return;
    }
    count(value == null ? RequestStats.Outcome.RESP_NIL : RequestStats.Outcome.RESP_OK);
    Resp.writeBulk(out(), value);
    answered();
  }

  private Reply finishGet(byte @Nullable [] value, @Nullable Throwable error) {
    if (error != null) {
      return failure(error);
    }
    count(value == null ? RequestStats.Outcome.RESP_NIL : RequestStats.Outcome.RESP_OK);
    return new Reply(Resp.bulk(ctx().alloc(), value), After.KEEP);
  }

  private void mget(ChannelHandlerContext ctx, List<byte[]> args) {
    if (args.size() < 2) {
      fail(ctx.alloc(), wrongArity("mget"));
      return;
    }
    int keyCount = args.size() - 1;
    if (keyCount > maxPending) {
      // Each key costs a read in flight: an MGET counts its keys against the connection's bound.
      fail(ctx.alloc(), "ERR MGET of " + keyCount + " keys: a request may read at most " + maxPending
          + " keys (MAX_PENDING_REQUESTS)");
      return;
    }
    List<RedisKey> keys = new ArrayList<>(keyCount);
    for (int i = 1; i < args.size(); i++) {
      keys.add(RedisKey.wrap(args.get(i)));
    }
    submit(() -> readAll(keys), (Map<RedisKey, byte[]> values, @Nullable Throwable error) -> {
      if (error != null) {
        return failure(error);
      }
      List<byte @Nullable []> ordered = new ArrayList<>(keys.size());
      for (RedisKey key : keys) {
        ordered.add(values == null ? null : values.get(key));
      }
      count(RequestStats.Outcome.RESP_OK);
      if (Resp.bulkArraySize(ordered) > Resp.MAX_BUILT_ARRAY_REPLY_BYTES) {
        return new Reply(new ArrayReplyStream(ordered), After.KEEP); // written as the socket takes it
      }
      return new Reply(Resp.bulkArray(ctx.alloc(), ordered), After.KEEP);
    }, keyCount);
  }

  /**
   * MGET's reads: one {@code getAll}. Should it fail because a key holds another type than a
   * string, each key is read on its own, and such a key answers nil, as Redis's MGET does.
   */
  private CompletionStage<Map<RedisKey, byte[]>> readAll(List<RedisKey> keys) {
    return cache.getAll(keys).exceptionallyCompose(error -> ProxyMetrics.isWrongType(error)
        ? eachOnItsOwn(keys) : CompletableFuture.failedFuture(error));
  }

  private CompletionStage<Map<RedisKey, byte[]>> eachOnItsOwn(List<RedisKey> keys) {
    List<CompletableFuture<byte @Nullable []>> reads = new ArrayList<>(keys.size());
    for (RedisKey key : keys) {
      reads.add(cache.get(key).toCompletableFuture().handle((value, error) -> {
        if (error == null || ProxyMetrics.isWrongType(error)) {
          return error == null ? value : null;
        }
        throw error instanceof CompletionException completion ? completion : new CompletionException(error);
      }));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(done -> {
      Map<RedisKey, byte[]> found = new HashMap<>();
      for (int i = 0; i < keys.size(); i++) {
        byte[] value = reads.get(i).join();
        if (value != null) {
          found.put(keys.get(i), value);
        }
      }
      return found;
    });
  }

  private Reply failure(Throwable error) {
    ProxyMetrics.Failure failure = metrics.classify(error);
    count(failure.unavailable() ? RequestStats.Outcome.RESP_UNAVAILABLE : RequestStats.Outcome.RESP_ERROR);
    String line = failure.wrongType() ? "WRONGTYPE " + failure.message() : "ERR " + failure.message();
    return new Reply(Resp.error(ctx().alloc(), line), After.KEEP);
  }

  private void ok(ByteBuf reply) {
    count(RequestStats.Outcome.RESP_OK);
    reply(new Reply(reply, After.KEEP));
  }

  private void fail(ByteBufAllocator alloc, String message) {
    count(RequestStats.Outcome.RESP_ERROR);
    reply(new Reply(Resp.error(alloc, message), After.KEEP));
  }

  private static String wrongArity(String command) {
    return "ERR wrong number of arguments for '" + command + "' command";
  }

  /** Redis 7's wording, so clients and scripts that match on it keep working. */
  static String unknownCommand(List<byte[]> args) {
    StringBuilder sb = new StringBuilder("ERR unknown command '")
        .append(Resp.quote(args.get(0), 128))
        .append("', with args beginning with: ");
    for (int i = 1; i < args.size() && sb.length() < 400; i++) {
      sb.append('\'').append(Resp.quote(args.get(i), 128)).append("' ");
    }
    return sb.toString();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(US_ASCII);
  }
}
