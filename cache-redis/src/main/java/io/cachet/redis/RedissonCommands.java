package io.cachet.redis;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.client.protocol.decoder.ObjectListReplayDecoder;
import org.redisson.command.CommandAsyncExecutor;

/**
 * The one place Cachet reaches into Redisson's internals: its command executor, to send plain
 * Redis commands with binary keys. Redisson's public API names keys by {@code String} (so
 * arbitrary key bytes would not round-trip) and offers no plain {@code GET}/{@code PTTL}/
 * {@code SET PX NX} on raw keys; the executor routes each command by its key's bytes (the right
 * Cluster slot, {@code MOVED}/{@code ASK} followed) over Redisson's pooled connections.
 *
 * <p>{@code RedissonCommandsIT} runs every method here against a real Redis, so a Redisson upgrade
 * that changes any of these internals fails the build there (or fails to compile here).
 *
 * <p>Thread-safe; every method returns at once.
 */
final class RedissonCommands {

  /** SCAN with its reply as raw [cursor, [keys...]]. */
  private static final RedisCommand<List<Object>> RAW_SCAN = new RedisCommand<>("SCAN", new ObjectListReplayDecoder<>());

  private final CommandAsyncExecutor executor;

  RedissonCommands(RedissonClient client) {
    // The cast this class exists to isolate: Redisson's public API has no raw-key commands.
    this.executor = ((Redisson) client).getCommandExecutor();
  }

  /** {@code GET key}: the value's bytes, or null. */
  CompletionStage<Object> get(byte[] key) {
    return executor.readAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.GET, key);
  }

  /** {@code PTTL key}: milliseconds left, -1 without a TTL, -2 when there is no such key. */
  CompletionStage<Long> pttl(byte[] key) {
    return executor.readAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.PTTL, key);
  }

  /** {@code SET key value [PX ms]}; {@code args} starts with the key. */
  CompletionStage<Object> set(byte[] key, Object[] args) {
    return executor.writeAsync(key, ByteArrayCodec.INSTANCE, RedisCommands.SET, args);
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

  /** {@code SCAN cursor MATCH pattern COUNT count} on a single server: [cursor, [keys...]]. */
  CompletionStage<List<Object>> scan(String cursor, String pattern, int count) {
    return executor.readAsync(new byte[] {0}, ByteArrayCodec.INSTANCE, RAW_SCAN, cursor, "MATCH", pattern, "COUNT", count);
  }

  /** {@code UNLINK key...} on a single server. */
  CompletionStage<Object> unlink(Object[] keys) {
    return executor.writeAsync((byte[]) keys[0], ByteArrayCodec.INSTANCE, RedisCommands.UNLINK, keys);
  }
}
