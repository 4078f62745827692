package io.cachet.redis;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.BackendUnavailableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code clear()}'s walk of every primary's keyspace, over a fake Redis. */
final class KeyspaceWalkTest {

  /**
   * Primaries whose keys come in pages of two (cursor = index of the next page); a primary's
   * server can be changed (a failover), after which its keyspace is the new server's.
   */
  private static final class FakeRedis implements RedisTransport.Walk {
    final Map<String, String> servers = new HashMap<>(); // primary -> server
    final Map<String, List<String>> keys = new HashMap<>(); // server -> keys
    final List<String> unlinked = new ArrayList<>();
    final List<String> scans = new ArrayList<>();
    Runnable afterScan = () -> {};

    void primary(String primary, String server, String... serverKeys) {
      servers.put(primary, server);
      keys.put(server, List.of(serverKeys));
    }

    @Override
    public List<Object> primaries() {
      return new ArrayList<>(servers.keySet().stream().sorted().toList());
    }

    @Override
    public Object serverOf(Object primary) {
      return servers.get(primary);
    }

    @Override
    public List<Object> scan(Object primary, String cursor) {
      String server = servers.get(primary);
      scans.add(primary + "@" + server + ":" + cursor);
      List<String> all = keys.get(server);
      int from = Integer.parseInt(cursor) * 2;
      int to = Math.min(all.size(), from + 2);
      String next = to >= all.size() ? "0" : Integer.toString(Integer.parseInt(cursor) + 1);
      afterScan.run();
      return List.of(next.getBytes(US_ASCII), new ArrayList<Object>(all.subList(from, to)));
    }

    @Override
    public void unlink(List<Object> page) {
      page.forEach(k -> unlinked.add((String) k));
    }
  }

  @Test
  void everyPrimaryIsWalkedToTheEnd() {
    FakeRedis redis = new FakeRedis();
    redis.primary("a", "10.0.0.1", "a1", "a2", "a3", "a4", "a5");
    redis.primary("b", "10.0.0.2", "b1");
    RedisTransport.walk(redis, "c");
    assertThat(redis.unlinked).containsExactly("a1", "a2", "a3", "a4", "a5", "b1");
  }

  @Test
  void primaryWhoseServerChangesMidWalk_isWalkedAgainFromTheStart_onTheNewServer() {
    FakeRedis redis = new FakeRedis();
    redis.primary("a", "10.0.0.1", "a1", "a2", "a3", "a4", "a5");
    redis.keys.put("10.0.0.9", List.of("a1", "a2", "a3", "a4", "a5", "a6"));
    redis.afterScan = () -> {
      if (redis.scans.size() == 2) {
        redis.servers.put("a", "10.0.0.9"); // failover after the second page was asked for
      }
    };
    RedisTransport.walk(redis, "c");
    assertThat(redis.scans).containsExactly(
        "a@10.0.0.1:0", "a@10.0.0.1:1", "a@10.0.0.9:0", "a@10.0.0.9:1", "a@10.0.0.9:2");
    assertThat(redis.unlinked).containsSubsequence("a1", "a2", "a3", "a4", "a5", "a6");
  }

  @Test
  void primaryWhoseServerKeepsChanging_failsTheClear() {
    FakeRedis redis = new FakeRedis();
    redis.primary("a", "s0", "a1", "a2", "a3");
    for (int i = 1; i < 10; i++) {
      redis.keys.put("s" + i, List.of("a1", "a2", "a3"));
    }
    int[] failovers = {0};
    redis.afterScan = () -> redis.servers.put("a", "s" + ++failovers[0]);
    assertThatThrownBy(() -> RedisTransport.walk(redis, "c"))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("cannot clear cache 'c'")
        .hasMessageContaining("the primary changed 4 times");
  }

  @Test
  void noPrimaryKnown_failsTheClear() {
    assertThatThrownBy(() -> RedisTransport.walk(new FakeRedis(), "c"))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("no Redis primary is known");
  }
}
