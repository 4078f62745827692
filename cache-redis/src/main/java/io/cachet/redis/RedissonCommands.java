package io.cachet.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.redisson.Redisson;
import org.redisson.api.BatchOptions;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.client.protocol.decoder.ObjectListReplayDecoder;
import org.redisson.command.CommandAsyncExecutor;
import org.redisson.command.CommandBatchService;
import org.redisson.connection.ConnectionManager;
import org.redisson.connection.MasterSlaveEntry;

/**
 * The one place Cachet reaches into Redisson's internals: its command executor, to send plain
 * Redis commands with binary keys. Redisson's public API names keys by {@code String} (so
 * arbitrary key bytes would not round-trip) and offers no plain {@code GET}/{@code PTTL}/
 * {@code SET PX NX} on raw keys; the executor routes each command by its key's bytes (the right
 * Cluster slot, {@code MOVED}/{@code ASK} followed) over Redisson's pooled connections. Its batch
 * service ({@link #readBatch}) pipelines many reads on one connection per node, and its connection
 * manager's slot map tells which node serves a key ({@link #nodeOf}), so that reads are batched per
 * node.
 *
 * <p>{@code RedissonCommandsIT} runs every method here against a real Redis, so a Redisson upgrade
 * that changes any of these internals fails the build there (or fails to compile here).
 *
 * <p>Thread-safe; every method returns at once.
 */
final class RedissonCommands {

  /** SCAN with its reply as raw [cursor, [keys...]]. */
  private static final RedisCommand<List<Object>> RAW_SCAN = new RedisCommand<>("SCAN", new ObjectListReplayDecoder<>());

  /** How much longer than a command Redisson gives a batch of reads before it gives up on it. */
  static final Duration BATCH_TIMEOUT_MARGIN = Duration.ofMillis(500);

  private final CommandAsyncExecutor executor;
  private final BatchOptions batchOptions;

  /** One key's replies in a {@link #readBatch}: its {@code GET} and {@code PTTL}, or the error for it. */
  record KeyRead(@Nullable Object value, @Nullable Long pttl, @Nullable Throwable error) {}

  RedissonCommands(RedissonClient client, Duration commandTimeout) {
    // The cast this class exists to isolate: Redisson's public API has no raw-key commands.
    this.executor = ((Redisson) client).getCommandExecutor();
    // IN_MEMORY: plain pipelining, no MULTI/EXEC (the reads need no atomicity, see RedisTransport.read).
    // No retries, as for single commands: Redisson would resend only after commandTimeout, past the
    // caller's bound; a batch that never reached Redis is resent by RedisTransport within it.
    // Response timeout: past the cache's own bound on a read (commandTimeout + 250 ms), so that
    // the cache's fires first and fails the reads on its completion pool. Redisson's would complete
    // them on its one timer thread, as answered batches whose keys carry the timeout, and run every
    // caller's continuation there (see CommandTimeouts); it only frees the batch's resources now.
    this.batchOptions = BatchOptions.defaults()
        .executionMode(BatchOptions.ExecutionMode.IN_MEMORY)
        .retryAttempts(0)
        .responseTimeout(commandTimeout.plus(BATCH_TIMEOUT_MARGIN).toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The retries of a {@link #readBatch} (for tests, which see no Redisson type: it is relocated). */
  int batchRetryAttempts() {
    return batchOptions.getRetryAttempts();
  }

  /** The response timeout of a {@link #readBatch}, in milliseconds; for tests. */
  long batchResponseTimeoutMillis() {
    return batchOptions.getResponseTimeout();
  }

  /** The execution mode of a {@link #readBatch}, by name; for tests. */
  String batchExecutionMode() {
    return batchOptions.getExecutionMode().name();
  }

  /** What {@link #nodeOf} answers for a key of a slot no node serves at the moment. */
  private static final Object UNSERVED = new Object();

  /**
   * The node (a primary and its replicas) that serves {@code key} as Redisson routes it now: an
   * object with identity, the same for every key of that node (one for every key on a single
   * server or Sentinel).
   */
  Object nodeOf(byte[] key) {
    ConnectionManager connections = executor.getConnectionManager();
    MasterSlaveEntry entry = connections.getWriteEntry(connections.calcSlot(key));
    return entry == null ? UNSERVED : entry;
  }

  /** The nodes {@link #nodeOf} may answer now. */
  java.util.Set<Object> nodes() {
    java.util.Set<Object> nodes = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    nodes.addAll(executor.getConnectionManager().getEntrySet());
    nodes.add(UNSERVED);
    return nodes;
  }

  /** How many nodes Redisson knows now. */
  int nodeCount() {
    return executor.getConnectionManager().getEntrySet().size();
  }

  /**
   * The positions of {@code keys} grouped by the node (primary and its replicas) that serves them,
   * as Redisson routes them now: one group on a single server or Sentinel, one per primary on a
   * Cluster (keys of a slot no node serves at the moment form a group of their own). Reading each
   * group in a {@link #readBatch} of its own lets a node that is down fail its own keys only.
   */
  List<int[]> groupByNode(List<byte[]> keys) {
    ConnectionManager connections = executor.getConnectionManager();
    if (connections.getEntrySet().size() <= 1) {
      int[] all = new int[keys.size()];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
      }
      return List.of(all);
    }
    Map<Object, List<Integer>> byNode = new IdentityHashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      byNode.computeIfAbsent(nodeOf(keys.get(i)), e -> new ArrayList<>()).add(i);
    }
    List<int[]> groups = new ArrayList<>(byNode.size());
    for (List<Integer> positions : byNode.values()) {
      groups.add(positions.stream().mapToInt(Integer::intValue).toArray());
    }
    return groups;
  }

  /** {@code GET key}: the value's bytes, or null. */
  CompletionStage<Object> get(byte[] key) {
    return executor.readAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.GET, key);
  }

  /** {@code PTTL key}: milliseconds left, -1 without a TTL, -2 when there is no such key. */
  CompletionStage<Long> pttl(byte[] key) {
    return executor.readAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.PTTL, key);
  }

  /**
   * {@code GET} and {@code PTTL} of every key, pipelined: Redisson's batch service groups the
   * commands by node and writes each node's on one pooled connection in one flush (on a Cluster,
   * one connection per node, all at once), instead of taking a connection per command. A
   * {@code MOVED} or {@code ASK} reply sends the commands that got it, and only those, to the node
   * named (with {@code ASKING} for an {@code ASK}); the commands already answered are not resent.
   *
   * <p>The stage completes once every command is answered or failed; element {@code i} holds
   * {@code keys.get(i)}'s replies, or the error for that key: Redis's error reply to its
   * {@code GET} or {@code PTTL} ({@code WRONGTYPE}), a {@link RedisConnectionException} when its
   * commands could not be written (no connection to its node, or writing to a dying one failed:
   * the caller may resend that key), or the batch's failure (a response timeout) when it got no
   * reply. So one unreachable Cluster node fails the keys it holds, not the whole batch.
   */
  CompletionStage<List<KeyRead>> readBatch(List<byte[]> keys) {
    CommandBatchService batch = new CommandBatchService(executor, batchOptions);
    List<CompletableFuture<Object>> values = new ArrayList<>(keys.size());
    List<CompletableFuture<Long>> ttls = new ArrayList<>(keys.size());
    for (byte[] key : keys) {
      values.add(batch.<Object, Object>readAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.GET, key).toCompletableFuture());
      ttls.add(batch.<Long, Long>readAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.PTTL, key).toCompletableFuture());
    }
    return batch.executeAsync().handle((result, error) -> {
      // Redisson completes every command's future before the batch's.
      List<KeyRead> reads = new ArrayList<>(keys.size());
      for (int i = 0; i < keys.size(); i++) {
        Throwable failed = firstFailure(values.get(i), ttls.get(i), error);
        reads.add(failed != null
            ? new KeyRead(null, null, failed)
            : new KeyRead(values.get(i).getNow(null), ttls.get(i).getNow(null), null));
      }
      return reads;
    });
  }

  /** The failure of one key's commands, or null when both were answered. */
  private static @Nullable Throwable firstFailure(
      CompletableFuture<?> value, CompletableFuture<?> ttl, @Nullable Throwable batchError) {
    Throwable failed = failureOf(value, batchError);
    return failed != null ? failed : failureOf(ttl, batchError);
  }

  /** The failure of one batched command, or null when it was answered. */
  private static @Nullable Throwable failureOf(CompletableFuture<?> command, @Nullable Throwable batchError) {
    if (!command.isDone()) {
      return batchError != null ? batchError : new IllegalStateException("a batched command was not answered");
    }
    if (command.isCompletedExceptionally()) {
      try {
        command.join();
      } catch (CompletionException | CancellationException e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      }
    }
    return null;
  }

  /** {@code SET key value [PX ms]}; {@code args} starts with the key. */
  CompletionStage<Object> set(byte[] key, Object[] args) {
    return executor.writeAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.SET, args);
  }

  /**
   * {@code SET} of each of {@code args} (each starting with its key), pipelined as
   * {@link #readBatch} is: grouped by node, one flush per node, {@code MOVED}/{@code ASK}
   * followed. Completes once all are answered; element {@code i} is null when the {@code i}th
   * {@code SET} was applied, else its failure (as {@link #readBatch} reports a key's), so a
   * caller can tell the commands that never reached Redis from those a node applied before another
   * part of the pipeline, redirected elsewhere, failed.
   */
  CompletionStage<List<@Nullable Throwable>> setEach(List<Object[]> args) {
    CommandBatchService batch = new CommandBatchService(executor, batchOptions);
    List<CompletableFuture<Object>> sets = new ArrayList<>(args.size());
    for (Object[] set : args) {
      sets.add(batch.<Void, Object>writeAsync((byte[]) set[0], ByteArrayCodec.INSTANCE, RedisCommands.SET, set)
          .toCompletableFuture());
    }
    return batch.executeAsync().handle((result, error) -> {
      List<@Nullable Throwable> failures = new ArrayList<>(sets.size());
      for (CompletableFuture<Object> set : sets) {
        failures.add(failureOf(set, error));
      }
      return failures;
    });
  }

  /** {@code SET key value [PX ms] NX|XX}: whether it was stored. */
  CompletionStage<Boolean> setIf(byte[] key, Object[] args) {
    return executor.writeAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.SET_BOOLEAN, args);
  }

  /** {@code DEL key}: how many keys were deleted. */
  CompletionStage<Long> del(byte[] key) {
    return executor.writeAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.DEL, key);
  }

  /** {@code PEXPIRE key ms}: whether the key exists. */
  CompletionStage<Boolean> pexpire(byte[] key, long millis) {
    return executor.writeAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.PEXPIRE, key, millis);
  }

  /** A script on one key returning 0 or 1 (sent as {@code EVALSHA} once loaded). */
  CompletionStage<Boolean> evalBoolean(byte[] key, String script, Object... args) {
    // Redisson routes scripts by a String key; ISO-8859-1 keeps one char per byte.
    String routing = new String(key, java.nio.charset.StandardCharsets.ISO_8859_1);
    return executor.evalWriteAsync(routing, ByteArrayCodec.INSTANCE, RedisCommands.EVAL_BOOLEAN, script, List.of(key), args);
  }

  /** The primaries Redisson knows now, each as the handle {@link #scan} takes: one on a single server or Sentinel. */
  List<Object> primaries() {
    return new ArrayList<>(executor.getConnectionManager().getEntrySet());
  }

  /** The address of the server that is {@code primary}'s primary now (a failover changes it). */
  Object serverOf(Object primary) {
    org.redisson.client.RedisClient client = ((MasterSlaveEntry) primary).getClient();
    return client == null ? "no primary" : client.getAddr(); // none while a failover swaps it
  }

  /**
   * {@code SCAN cursor MATCH pattern COUNT count} on {@code primary} (one of {@link #primaries()}):
   * [cursor, [keys...]]. A {@code SCAN} covers only the node it is sent to.
   */
  CompletionStage<List<Object>> scan(Object primary, String cursor, String pattern, int count) {
    return executor.writeAsync((MasterSlaveEntry) primary, ByteArrayCodec.INSTANCE, RAW_SCAN, cursor, "MATCH", pattern,
        "COUNT", count);
  }

  /** {@code UNLINK key...} on a single server (on a Cluster the keys would have to share a slot). */
  CompletionStage<Object> unlink(Object[] keys) {
    return executor.writeAsync((byte[]) keys[0], ByteArrayCodec.INSTANCE, RedisCommands.UNLINK, keys);
  }

  /**
   * {@code UNLINK key} for each of {@code keys}, pipelined as {@link #readBatch} is (grouped by
   * node, one flush per node, {@code MOVED}/{@code ASK} followed): for a Cluster, where the keys
   * of one {@code SCAN} page span many slots. Completes once all are answered; fails if any failed.
   */
  CompletionStage<Void> unlinkEach(List<Object> keys) {
    CommandBatchService batch = new CommandBatchService(executor, batchOptions);
    for (Object key : keys) {
      batch.writeAsync((byte[]) key, ByteArrayCodec.INSTANCE, RedisCommands.UNLINK, key);
    }
    return batch.executeAsync().thenApply(result -> null);
  }
}
