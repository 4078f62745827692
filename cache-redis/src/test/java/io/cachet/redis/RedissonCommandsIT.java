package io.cachet.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.testkit.redis.RedisServerExtension;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every Redisson internal Cachet relies on, against a real Redis: a Redisson upgrade that changes
 * the command executor or these commands fails here (or in RedissonCommands' compilation).
 */
@Tag("redis")
final class RedissonCommandsIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static RedisClient client;
  private static RedissonCommands commands;
  private final String prefix = "internals-" + UUID.randomUUID() + ":";

  @BeforeAll
  static void connect() {
    client = RedisClient.connect(RedisOptions.builder().address(REDIS.server().uri()).build());
    commands = client.commands();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private byte[] key(String name) {
    return (prefix + name).getBytes(UTF_8);
  }

  @Test
  void getAndPttl_ofAbsentKey() throws Exception {
    assertThat(await(commands.get(key("none")))).isNull();
    assertThat(await(commands.pttl(key("none")))).isEqualTo(-2L);
  }

  @Test
  void set_get_pttl_withBinaryKeyAndValue() throws Exception {
    byte[] binaryKey = {'b', (byte) 0xFF, 0, (byte) 0xFE};
    byte[] value = {1, 2, (byte) 0xFF};
    await(commands.set(binaryKey, new Object[] {binaryKey, value, "PX", 60_000L}));

    assertThat((byte[]) await(commands.get(binaryKey))).isEqualTo(value);
    assertThat(await(commands.pttl(binaryKey))).isBetween(1L, 60_000L);
    assertThat(await(commands.del(binaryKey))).isEqualTo(1L);
  }

  @Test
  void setIf_nxAndXx() throws Exception {
    byte[] k = key("cond");
    assertThat(await(commands.setIf(k, new Object[] {k, "a".getBytes(UTF_8), "XX"}))).isFalse();
    assertThat(await(commands.setIf(k, new Object[] {k, "a".getBytes(UTF_8), "NX"}))).isTrue();
    assertThat(await(commands.setIf(k, new Object[] {k, "b".getBytes(UTF_8), "NX"}))).isFalse();
    assertThat(REDIS.server().command("GET", prefix + "cond")).isEqualTo("a");
  }

  @Test
  void pexpire_andEvalBoolean() throws Exception {
    byte[] k = key("script");
    REDIS.server().command("SET", prefix + "script", "v");
    assertThat(await(commands.pexpire(k, 60_000))).isTrue();
    assertThat(await(commands.pexpire(key("none"), 60_000))).isFalse();
    String script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end return 0";
    assertThat(await(commands.evalBoolean(k, script, "v".getBytes(UTF_8)))).isTrue();
    assertThat(await(commands.evalBoolean(k, script, "w".getBytes(UTF_8)))).isFalse();
  }

  @Test
  void scanAndUnlink() throws Exception {
    for (int i = 0; i < 5; i++) {
      REDIS.server().command("SET", prefix + "scan" + i, "v");
    }
    assertThat(commands.primaries()).hasSize(1);
    assertThat(commands.serverOf(commands.primaries().get(0)).toString()).endsWith(":" + REDIS.server().port());
    List<Object> reply = await(commands.scan(commands.primaries().get(0), "0", prefix + "scan*", 1000));
    assertThat(reply).hasSize(2);
    assertThat(reply.get(0)).isInstanceOf(byte[].class);
    List<?> keys = (List<?>) reply.get(1);
    // One SCAN page need not hold every match; unlink what it returned.
    if (!keys.isEmpty()) {
      await(commands.unlink(keys.toArray()));
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> keys.stream()
        .allMatch(k -> REDIS.server().command("EXISTS", new String((byte[]) k, UTF_8)).equals(0L)));
  }

  @Test
  void groupByNode_onOneServer_isOneGroupOfEveryPosition() {
    // On a Cluster (RedisClusterStalenessIT) the groups follow Redisson's slot map, one per primary.
    assertThat(commands.groupByNode(List.of(key("a"), key("b"), key("c"))))
        .singleElement()
        .satisfies(group -> assertThat(group).containsExactly(0, 1, 2));
  }

  @Test
  void readBatch_valuesTtlsAbsentAndBinaryKeys_inOrder() throws Exception {
    byte[] binaryKey = {'b', (byte) 0xFF, 0, (byte) 0xFE, (byte) 0x80};
    byte[] binaryValue = {0, (byte) 0xFF, 10, 13};
    await(commands.set(binaryKey, new Object[] {binaryKey, binaryValue, "PX", 60_000L}));
    REDIS.server().command("SET", prefix + "plain", "p");
    List<byte[]> keys = List.of(key("plain"), key("absent"), binaryKey, key("plain"));

    List<RedissonCommands.KeyRead> reads = await(commands.readBatch(keys));

    assertThat(reads).hasSize(4);
    assertThat((byte[]) reads.get(0).value()).isEqualTo("p".getBytes(UTF_8));
    assertThat(reads.get(0).pttl()).isEqualTo(-1L);
    assertThat(reads.get(1).value()).isNull();
    assertThat(reads.get(1).pttl()).isEqualTo(-2L);
    assertThat((byte[]) reads.get(2).value()).isEqualTo(binaryValue);
    assertThat(reads.get(2).pttl()).isBetween(1L, 60_000L);
    assertThat((byte[]) reads.get(3).value()).isEqualTo("p".getBytes(UTF_8));
    assertThat(reads).allSatisfy(read -> assertThat(read.error()).isNull());
    await(commands.del(binaryKey));
  }

  @Test
  void readBatch_errorReplyForOneKey_isThatKeysOnly() throws Exception {
    REDIS.server().command("LPUSH", prefix + "list", "x");
    REDIS.server().command("SET", prefix + "ok", "v");

    List<RedissonCommands.KeyRead> reads = await(commands.readBatch(List.of(key("ok"), key("list"), key("none"))));

    assertThat((byte[]) reads.get(0).value()).isEqualTo("v".getBytes(UTF_8));
    assertThat(reads.get(0).error()).isNull();
    // Redisson's classes are relocated inside cache-redis's jar, which these tests run on.
    assertThat(reads.get(1).error()).hasMessageContaining("WRONGTYPE");
    assertThat(reads.get(1).error().getClass().getSimpleName()).isEqualTo("RedisException");
    assertThat(reads.get(2).value()).isNull();
    assertThat(reads.get(2).pttl()).isEqualTo(-2L);
    assertThat(reads.get(2).error()).isNull();
  }

  @Test
  void readBatch_manyKeys_isOneBatchInOrder() throws Exception {
    List<byte[]> keys = new java.util.ArrayList<>();
    for (int i = 0; i < ReadBatcher.MAX_BATCH; i++) {
      if (i % 2 == 0) {
        REDIS.server().command("SET", prefix + "many" + i, "v" + i);
      }
      keys.add(key("many" + i));
    }
    List<RedissonCommands.KeyRead> reads = await(commands.readBatch(keys));
    for (int i = 0; i < keys.size(); i++) {
      Object expected = i % 2 == 0 ? ("v" + i).getBytes(UTF_8) : null;
      assertThat(reads.get(i).value()).as("key " + i).isEqualTo(expected);
    }
  }

  @Test
  void readBatch_options_noRetriesAndATimeoutPastTheCachesOwn() {
    // Read through methods without Redisson types: these tests run on the jar with Redisson relocated.
    assertThat(commands.batchRetryAttempts()).isZero();
    // Past the cache's own bound (commandTimeout + 250 ms), which fails timed-out reads first.
    assertThat(commands.batchResponseTimeoutMillis())
        .isEqualTo(RedisOptions.DEFAULT_COMMAND_TIMEOUT.plus(RedissonCommands.BATCH_TIMEOUT_MARGIN).toMillis());
    assertThat(commands.batchExecutionMode()).isEqualTo("IN_MEMORY");
  }
}
