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
 */
final class TopologyWrites implements StalenessHarness.Writes {
  private final Function<String, RedisServer> primaryFor;
  private final Map<String, RespConnection> connections = new HashMap<>();
  private final Map<String, RedisServer> owners = new HashMap<>();

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
    Object replicas = connection.command("WAIT", "1", "500");
    if (!(replicas instanceof Long n) || n < 1) {
      throw new IllegalStateException("the write of " + redisKey + " reached no replica in time");
    }
  }

  @Override
  public void reset() {
    connections.values().forEach(RespConnection::close);
    connections.clear();
    owners.clear();
  }
}
