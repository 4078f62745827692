package io.cachet.redis;

import io.cachet.testkit.redis.RedisServer;
import io.cachet.testkit.redis.RespConnection;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes for {@link StalenessHarness} straight to the primary that owns a key now, as another
 * client would, counting a write only once a replica has it too ({@code WAIT 1}): a write a
 * failover may still lose is not an acknowledged one.
 *
 * <p>A replica promoted by a failover has no replica of its own until the old primary comes back,
 * so no write of its keys would count in between, the very stretch in which invalidations lost in
 * the failover would show. Once the test's one failover is over it calls
 * {@link #acceptUnreplicated()}: from then on a write to a primary that has no connected replica
 * counts too (no later failover in the test can lose it).
 */
final class TopologyWrites implements StalenessHarness.Writes {
  private final Function<String, RedisServer> primaryFor;
  private final Map<String, RespConnection> connections = new HashMap<>();
  private final Map<String, RedisServer> owners = new HashMap<>();
  private volatile boolean acceptUnreplicated;

  /** @param primaryFor the primary that owns a Redis key now */
  TopologyWrites(Function<String, RedisServer> primaryFor) {
    this.primaryFor = primaryFor;
  }

  @Override
  public void set(String redisKey, String value) {
    RedisServer owner = owners.computeIfAbsent(redisKey, primaryFor);
    RespConnection connection = connections.computeIfAbsent(owner.address(),
        a -> RespConnection.open(owner.host(), owner.port(), Duration.ofSeconds(1)));
    connection.command("SET", redisKey, value);
    if (acceptUnreplicated && connectedReplicas(connection) == 0) {
      return;
    }
    Object replicas = connection.command("WAIT", "1", "500");
    if (replicas instanceof Long n && n >= 1) {
      return;
    }
    throw new IllegalStateException("the write of " + redisKey + " reached no replica in time");
  }

  /** Counts, from now on, writes to a primary that has no replica to copy them to. */
  void acceptUnreplicated() {
    acceptUnreplicated = true;
  }

  private static long connectedReplicas(RespConnection connection) {
    String info = (String) connection.command("INFO", "replication");
    for (String line : info.split("\r\n")) {
      if (line.startsWith("connected_slaves:")) {
        return Long.parseLong(line.substring("connected_slaves:".length()).strip());
      }
    }
    throw new IllegalStateException("INFO replication without connected_slaves: " + info);
  }

  @Override
  public void reset() {
    connections.values().forEach(RespConnection::close);
    connections.clear();
    owners.clear();
  }
}
