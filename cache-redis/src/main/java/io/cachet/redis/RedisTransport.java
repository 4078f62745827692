package io.cachet.redis;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheException;
import io.cachet.spi.Checks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.redisson.RedissonShutdownException;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisException;
import org.redisson.client.RedisNodeNotFoundException;
import org.redisson.client.RedisReadonlyException;
import org.redisson.client.RedisReconnectedException;
import org.redisson.client.RedisRetryException;
import org.redisson.client.RedisTimeoutException;
import org.redisson.client.WriteRedisConnectionException;

/**
 * How one Redis cache talks to Redis: sends commands through its client's {@link RedissonCommands},
 * bounds every call, resends only what provably never reached Redis, and maps failures to
 * Cachet's exceptions.
 *
 * <p>Every call is bounded by {@code commandTimeout + 250 ms}; a blocked caller waits at most one
 * second more (a backstop only a bug could reach). {@link BackendUnavailableException} means Redis
 * could not be reached or did not answer in time; a plain {@link CacheException} naming the key
 * means Redis answered with an error.
 *
 * <p>Thread-safe; nothing here blocks except {@link #await} and {@link #clear}, which run on the
 * caller's thread.
 */
final class RedisTransport {

  /** Slack on top of {@code commandTimeout} before the cache gives up on a command itself. */
  private static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  /**
   * How much longer a blocked caller waits than a command may take. Every command is bounded
   * where it is sent, so this only fires if something else went wrong; it keeps a caller from
   * hanging on a bug.
   */
  private static final long BACKSTOP_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final int MAX_RESENDS = NodeReads.MAX_RESENDS;
  static final long RESEND_DELAY_MILLIS = 100;
  private static final long RESEND_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(RESEND_DELAY_MILLIS);
  private static final int SCAN_COUNT = 1000;

  private final String cacheName;
  private final String address;
  private final RedisClient client;
  private final RedissonCommands commands;
  private final CommandTimeouts timeouts;
  private final boolean cluster;
  private final long operationTimeoutNanos;
  private final LongAdder roundTrips = new LongAdder();
  private final LongAdder readBatches = new LongAdder();
  private final LongAdder batchedReads = new LongAdder();
  /** The reads of a single server or a Sentinel's primary. */
  private final ReadBatcher reads;
  /**
   * On a Cluster, one batcher per node (as Redisson routes keys now), so that a node that stops
   * answering holds up the reads of its own keys only: each batcher has its own batches in flight.
   */
  private final ConcurrentHashMap<Object, ReadBatcher> readsByNode = new ConcurrentHashMap<>();

  /** A read's two replies: the value's bytes (null: no such key) and its {@code PTTL}. */
  record Read(@Nullable Object value, @Nullable Object pttl) {}

  RedisTransport(String cacheName, RedisOptions options, RedisClient client) {
    this.cacheName = cacheName;
    this.address = options.address();
    this.client = client;
    this.commands = client.commands();
    this.timeouts = client.timeouts();
    this.cluster = client.address().topology() == RedisAddress.Topology.CLUSTER;
    // Commands are not retried (a resent conditional write could apply twice), so one command
    // timeout plus a little scheduling slack bounds every call.
    this.operationTimeoutNanos = Checks.saturatedNanos(options.commandTimeout()) + SLACK_NANOS;
    this.reads = newBatcher();
  }

  private ReadBatcher newBatcher() {
    return new ReadBatcher(this::sendReads, operationTimeoutNanos, System::nanoTime, timeouts::fail);
  }

  /**
   * The batcher of {@code node}. Batchers of nodes that left the topology are dropped once the map
   * holds more than twice the nodes there are; dropping one that is still in use is harmless (it
   * drains what it holds by itself), it only stops bounding that node's batches together.
   */
  private ReadBatcher batcherFor(Object node) {
    ReadBatcher batcher = readsByNode.get(node);
    if (batcher != null) {
      return batcher;
    }
    batcher = readsByNode.computeIfAbsent(node, n -> newBatcher());
    if (readsByNode.size() > 2 * commands.nodeCount() + 2) {
      readsByNode.keySet().retainAll(commands.nodes());
    }
    return batcher;
  }

  RedissonCommands commands() {
    return commands;
  }

  /** The bound of one call, plus the backstop: how long a blocked caller may wait. */
  long callerBoundNanos() {
    return operationTimeoutNanos + BACKSTOP_NANOS;
  }

  /**
   * Round trips so far: each command sent, and each batch of reads (however many keys it holds,
   * and over however many Cluster nodes it is spread).
   */
  long roundTrips() {
    return roundTrips.sum();
  }

  /** Batches of reads sent so far. */
  long readBatches() {
    return readBatches.sum();
  }

  /** Keys read so far, in all batches; divided by {@link #readBatches()}, the mean batch size. */
  long batchedReads() {
    return batchedReads.sum();
  }

  /**
   * Reads {@code redisKey}: {@code GET} and {@code PTTL} pipelined together, so a miss waits one
   * round trip, at about twice a {@code GET}'s CPU in Redis (a Lua script doing both costs some 25
   * times a {@code GET}). Concurrent reads share batches (see {@link ReadBatcher}): a lone read goes
   * out at once. They are not atomic, and need not be: a write between them also invalidates the
   * key, which flags the read (see NearCache), so a value is never cached with another's TTL.
   *
   * <p>The read is bounded like any command, from when it is called; Redis's error reply for this
   * key fails only this read.
   */
  CompletableFuture<Read> read(byte[] redisKey) {
    if (!cluster) {
      return reads.read(redisKey);
    }
    ReadBatcher batcher;
    try {
      batcher = batcherFor(commands.nodeOf(redisKey));
    } catch (RuntimeException e) { // Redisson's routing failed: this read fails, no caller is left waiting
      return CompletableFuture.failedFuture(e);
    }
    return batcher.read(redisKey);
  }

  /** Sends one batch of reads, bounded like one command (see {@link NodeReads}). */
  private CompletableFuture<List<RedissonCommands.KeyRead>> sendReads(List<byte[]> keys, long deadlineNanos) {
    roundTrips.increment();
    readBatches.increment();
    batchedReads.add(keys.size());
    return NodeReads.send(commands, timeouts, keys, deadlineNanos);
  }

  /**
   * Sends one command; the returned future completes with Redis's reply, the failure, or a
   * {@link TimeoutException} after {@code commandTimeout + 250 ms}, whichever comes first.
   *
   * <p>Redisson is configured not to retry: after a response timeout it would resend the command,
   * and a conditional write that Redis had in fact applied would then report {@code false}. The
   * only failure resent here is one where the command provably never reached Redis (Redisson could
   * not connect, or could not write it to a connection that had just died), at most
   * {@value #MAX_RESENDS} times, {@value #RESEND_DELAY_MILLIS} ms apart, within the same bound.
   */
  <R> CompletableFuture<R> send(Supplier<? extends CompletionStage<R>> command) {
    return send(command, System.nanoTime() + operationTimeoutNanos);
  }

  /** {@link #send(Supplier)} bounded by {@code deadline} ({@code System.nanoTime()}) instead. */
  private <R> CompletableFuture<R> send(Supplier<? extends CompletionStage<R>> command, long deadline) {
    CompletableFuture<R> reply = new CompletableFuture<>();
    roundTrips.increment();
    attempt(timeouts, command, reply, deadline, 0);
    return timeouts.bound(reply, deadline - System.nanoTime());
  }

  /**
   * Bounds {@code future} by one call's bound ({@code commandTimeout + 250 ms}): past it, it fails
   * with a {@link TimeoutException}, on the client's completion pool, never on a timer thread
   * (see CommandTimeouts). Returns {@code future}.
   */
  <T> CompletableFuture<T> withTimeout(CompletableFuture<T> future) {
    return timeouts.bound(future, operationTimeoutNanos);
  }

  /** Bounds {@code future} by {@link #callerBoundNanos()}, the backstop of a caller's wait. */
  <T> CompletableFuture<T> withBackstop(CompletableFuture<T> future) {
    return timeouts.bound(future, callerBoundNanos());
  }

  /**
   * Sends {@code command} and completes {@code reply} with its outcome, resending a command that
   * never reached Redis after {@value #RESEND_DELAY_MILLIS} ms while the bound allows. A resend
   * goes out only if, when its turn comes, {@code reply} is still pending and {@code deadline} has
   * not passed: once the caller has been failed it may write the key again, and an old write sent
   * after that would overwrite the new one.
   */
  static <R> void attempt(CommandTimeouts timeouts, Supplier<? extends CompletionStage<R>> command,
      CompletableFuture<R> reply, long deadline, int resends) {
    attempt(timeouts, command, reply, deadline, resends, null);
  }

  /** {@link #attempt}, after {@code lastFailure} (null for the first attempt). */
  private static <R> void attempt(CommandTimeouts timeouts, Supplier<? extends CompletionStage<R>> command,
      CompletableFuture<R> reply, long deadline, int resends, @Nullable Throwable lastFailure) {
    // A resend needs time left to be answered in: one sent just before the bound fails the caller
    // would turn a write that surely did nothing into one whose outcome is unknown.
    if (resends > 0 && (reply.isDone() || deadline - System.nanoTime() < RESEND_DELAY_NANOS)) {
      if (!reply.isDone() && lastFailure != null) {
        timeouts.fail(reply, lastFailure); // the failure of the attempt that never reached Redis
      }
      return;
    }
    try {
      // Not cancelled when the caller is failed first: the stage may be a write's dependent stage,
      // whose late completion must still invalidate the near copy (RedisCache.write).
      command.get().whenComplete((r, e) -> {
        if (e == null) {
          reply.complete(r);
        } else if (resends < MAX_RESENDS
            && neverSent(unwrap(e))
            && !reply.isDone()
            && deadline - System.nanoTime() > 2 * RESEND_DELAY_NANOS) {
          timeouts.later(RESEND_DELAY_MILLIS, () -> attempt(timeouts, command, reply, deadline, resends + 1, e));
        } else if (!reply.isDone()) {
          // Redisson may fail commands from its single timer thread: complete on the pool.
          timeouts.fail(reply, e);
        }
      });
    } catch (Throwable e) {
      reply.completeExceptionally(e);
    }
  }

  /**
   * Whether Redis cannot have received the command: Redisson found no connection, or writing to
   * the connection failed (a write that reached the socket completes its promise first).
   */
  static boolean neverSent(Throwable cause) {
    return cause instanceof RedisConnectionException; // WriteRedisConnectionException included
  }

  /**
   * Whether no command of a pipeline that failed with {@code cause} can have reached Redis: no
   * connection was had. Unlike a single command (Redis runs none of a command it got only part
   * of), a pipeline whose write failed half-way may have had its first commands run.
   */
  static boolean neverSentInPipeline(Throwable cause) {
    return cause instanceof RedisConnectionException && !(cause instanceof WriteRedisConnectionException);
  }

  /**
   * Deletes every key matching {@code pattern}, blocking the caller: {@code SCAN} and
   * {@code UNLINK} in steps, on every primary in turn (a {@code SCAN} covers one node), each step
   * bounded like one command (see {@link #walk}). On a Cluster the keys of one step are unlinked
   * in one pipelined batch (they span many slots).
   */
  void clear(String pattern) {
    walk(new Walk() {
      @Override
      public List<Object> primaries() {
        return commands.primaries();
      }

      @Override
      public Object serverOf(Object primary) {
        return commands.serverOf(primary);
      }

      @Override
      public List<Object> scan(Object primary, String cursor) {
        return await(RedisTransport.this.<List<Object>>send(() -> commands.scan(primary, cursor, pattern, SCAN_COUNT))
            .exceptionallyCompose(RedisTransport.this::failed));
      }

      @Override
      public void unlink(List<Object> keys) {
        RedisTransport.this.unlink(keys);
      }
    }, cacheName);
  }

  /** What {@link #walk} needs from Redis; blocking, each call bounded. */
  interface Walk {
    /** The primaries now (one on a single server or Sentinel). */
    List<Object> primaries();

    /** Which server is {@code primary}'s primary now (it changes on a failover). */
    Object serverOf(Object primary);

    /** One {@code SCAN} step on {@code primary}: [cursor bytes, [keys...]]. */
    List<Object> scan(Object primary, String cursor);

    void unlink(List<Object> keys);
  }

  /** How often one primary's walk starts over because its server changed before {@link #walk} fails. */
  static final int MAX_WALK_RESTARTS = 3;

  /**
   * Walks every primary's keyspace with {@code SCAN}, unlinking each page, so a large keyspace
   * takes as many bounds as it needs and a failed step ends the walk (no further step starts). A
   * {@code SCAN} cursor means something only to the server that issued it: when a failover
   * changes a primary's server during its walk, that walk starts over from cursor 0 (at most
   * {@value #MAX_WALK_RESTARTS} times), instead of skipping keys without a word. No primary at all
   * is a failure, not an empty keyspace.
   */
  static void walk(Walk walk, String cacheName) {
    List<Object> primaries = walk.primaries();
    if (primaries.isEmpty()) {
      throw new BackendUnavailableException("cannot clear cache '" + cacheName + "': no Redis primary is known", null);
    }
    for (Object primary : primaries) {
      for (int restarts = 0; !walkOnce(walk, primary); restarts++) {
        if (restarts == MAX_WALK_RESTARTS) {
          throw new BackendUnavailableException("cannot clear cache '" + cacheName + "': the primary changed "
              + (restarts + 1) + " times while its keys were being walked", null);
        }
      }
    }
  }

  /** One walk of {@code primary}'s keyspace; false when its server changed meanwhile (start over). */
  private static boolean walkOnce(Walk walk, Object primary) {
    Object server = walk.serverOf(primary);
    String cursor = "0";
    do {
      List<Object> reply = walk.scan(primary, cursor);
      if (!walk.serverOf(primary).equals(server)) {
        return false;
      }
      cursor = new String((byte[]) reply.get(0), StandardCharsets.US_ASCII);
      @SuppressWarnings("unchecked")
      List<Object> keys = (List<Object>) reply.get(1);
      walk.unlink(keys);
    } while (!cursor.equals("0"));
    return true;
  }

  /** Unlinks {@code keys}: one {@code UNLINK} on a single server, a pipelined one per key on a Cluster. */
  private void unlink(List<Object> keys) {
    if (keys.isEmpty()) {
      return;
    }
    if (cluster) {
      await(this.<Void>send(() -> commands.unlinkEach(keys)).exceptionallyCompose(this::failed));
    } else {
      Object[] batch = keys.toArray();
      await(this.<Object>send(() -> commands.unlink(batch)).exceptionallyCompose(this::failed));
    }
  }

  private <T> CompletionStage<T> failed(Throwable error) {
    return CompletableFuture.failedFuture(failure(null, error));
  }

  static Throwable unwrap(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /**
   * Whether {@code cause} means Redis could not be reached or did not answer in time (as opposed
   * to answering with an error): Redisson's connection and timeout failures, a server that is
   * loading or busy, a client shutting down, and our own bound.
   */
  static boolean isUnavailable(Throwable cause) {
    // Redisson may wrap a connection failure in a plain RedisException ("Unexpected exception
    // while processing command", caused by a ConnectException) while a cluster fails over: look
    // down the causes. An error reply from Redis has no cause.
    Throwable t = cause;
    for (int depth = 0; t != null && depth < 8; depth++) {
      if (isUnavailableItself(t)) {
        return true;
      }
      t = t.getCause() == t ? null : t.getCause();
    }
    return false;
  }

  private static boolean isUnavailableItself(Throwable cause) {
    return cause instanceof TimeoutException
        || cause instanceof BackendUnavailableException
        || cause instanceof RedisConnectionException
        || cause instanceof RedisTimeoutException
        || cause instanceof RedisRetryException
        || cause instanceof RedisReadonlyException // a replica: the primary moved (failover) or is not here
        || cause instanceof RedisNodeNotFoundException
        || cause instanceof RedisReconnectedException
        || cause instanceof RedissonShutdownException
        || cause instanceof CancellationException
        || cause instanceof IOException
        || isRedirectionLoop(cause);
  }

  /** Redisson's report of MOVED or ASK replies that kept pointing elsewhere: the topology is changing or wrong. */
  private static boolean isRedirectionLoop(Throwable cause) {
    String message = cause.getMessage();
    return cause instanceof RedisException && message != null && message.contains("redirection loop");
  }

  /** The exception a caller sees for a failed command on {@code key} (null: no single key). */
  CacheException failure(@Nullable Object key, Throwable error) {
    Throwable cause = unwrap(error);
    if (cause instanceof CacheException ce) {
      return ce;
    }
    String which = key == null ? "" : " for key '" + key + "'";
    if (cause instanceof TimeoutException || cause instanceof RedisTimeoutException) {
      return new BackendUnavailableException(
          "Redis at " + address + " did not answer within " + Duration.ofNanos(operationTimeoutNanos)
              + which + " of cache '" + cacheName + "'", cause);
    }
    if (isUnavailable(cause)) {
      return new BackendUnavailableException(
          "Redis at " + address + " is unavailable" + which + " of cache '" + cacheName + "': " + describe(cause), cause);
    }
    return new CacheException(
        "Redis at " + address + " rejected the command" + which + " of cache '" + cacheName + "': " + describe(cause), cause);
  }

  /** Redisson's message up to where it starts listing the channel and the command's arguments. */
  private static String describe(Throwable cause) {
    String message = String.valueOf(cause.getMessage());
    int cut = message.length();
    for (String marker : new String[] {". channel:", ", channel:", " channel:", "command:", "Command:", "params:"}) {
      int at = message.indexOf(marker);
      if (at >= 0 && at < cut) {
        cut = at;
      }
    }
    return message.substring(0, cut).strip();
  }

  /** Waits for {@code stage} on the caller's thread, within {@link #callerBoundNanos()}. */
  <T> T await(CompletionStage<T> stage) {
    return await(stage, callerBoundNanos());
  }

  <T> T await(CompletionStage<T> stage, long timeoutNanos) {
    CompletableFuture<T> future = stage.toCompletableFuture();
    try {
      return future.get(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while waiting for Redis", e);
    } catch (TimeoutException e) {
      throw failure(null, e);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new CacheException("Redis call failed for cache '" + cacheName + "'", cause);
    }
  }
}
