package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheManager;
import io.cachet.codec.Codecs;
import io.cachet.testkit.redis.RedisServerExtension;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** JSON values on Redis: readable by other clients, and bytes that are not JSON for the type fail cleanly. */
@Tag("redis")
final class RedisJsonCodecIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  record Order(String id, long cents, List<String> skus) {}

  private final String prefix = "json-" + UUID.randomUUID() + ":";
  private final CacheManager manager = CacheManager.create();
  private final Cache<String, Order> orders =
      manager.create(CacheConfig.builder("orders")
          .backend("redis")
          .valueCodec(Codecs.json(Order.class))
          .executor(Runnable::run)
          .backendOptions(RedisOptions.builder().address(REDIS.server().uri()).keyPrefix(prefix).build())
          .build());

  @AfterEach
  void tearDown() {
    manager.close();
  }

  @Test
  void put_storesPlainJsonThatOtherClientsRead() {
    orders.put("o-1", new Order("o-1", 1999, List.of("a", "b")));

    assertThat(REDIS.server().command("GET", prefix + "o-1"))
        .asString()
        .isEqualTo("{\"id\":\"o-1\",\"cents\":1999,\"skus\":[\"a\",\"b\"]}");
  }

  @Test
  void get_readsJsonWrittenByAnotherClient() {
    REDIS.server().command("SET", prefix + "o-2", "{\"id\":\"o-2\",\"cents\":5,\"skus\":[],\"note\":\"new field\"}");

    assertThat(orders.get("o-2")).isEqualTo(new Order("o-2", 5, List.of()));
  }

  @Test
  void get_undecodableBytes_throwNamingKeyAndTypeAndCacheNothing() {
    REDIS.server().command("SET", prefix + "bad", "not json {");

    assertThatThrownBy(() -> orders.get("bad"))
        .isInstanceOf(CacheException.class)
        .hasMessageContaining("key 'bad'")
        .hasMessageContaining("Codecs.json(io.cachet.redis.RedisJsonCodecIT$Order)")
        .cause()
        .hasMessageStartingWith("cannot read 10 bytes as JSON for io.cachet.redis.RedisJsonCodecIT$Order");
    assertThat(orders.unwrap(RedisCache.class).nearValueForTest("bad")).isNull();
    assertThatThrownBy(() -> orders.getAll(List.of("bad"))).isInstanceOf(CacheException.class);

    // Nothing was cached: once the bytes are valid, the next read returns them.
    REDIS.server().command("SET", prefix + "bad", "{\"id\":\"bad\",\"cents\":1,\"skus\":[]}");
    assertThat(orders.getAll(List.of("bad"))).isEqualTo(Map.of("bad", new Order("bad", 1, List.of())));
  }
}
