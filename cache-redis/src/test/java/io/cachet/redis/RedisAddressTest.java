package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.redis.RedisAddress.Topology;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class RedisAddressTest {

  @Test
  void parse_standaloneForms() {
    RedisAddress plain = RedisAddress.parse("10.0.0.5:6380");
    assertThat(plain.topology()).isEqualTo(Topology.STANDALONE);
    assertThat(plain.nodes()).containsExactly("10.0.0.5:6380");
    assertThat(plain.tls()).isFalse();
    assertThat(plain).hasToString("redis://10.0.0.5:6380");

    RedisAddress full = RedisAddress.parse("rediss://app:s%40cret@Cache.Example:6379/3");
    assertThat(full.tls()).isTrue();
    assertThat(full.username()).isEqualTo("app");
    assertThat(full.password()).isEqualTo("s@cret");
    assertThat(full.database()).isEqualTo(3);
    assertThat(full).hasToString("rediss://cache.example:6379/3");

    RedisAddress passwordOnly = RedisAddress.parse("redis://secret@h:1");
    assertThat(passwordOnly.username()).isNull();
    assertThat(passwordOnly.password()).isEqualTo("secret");
  }

  @Test
  void parse_sentinel() {
    RedisAddress sentinel = RedisAddress.parse("redis-sentinel://u:p@s1:26379, s2:26380/2#orders");
    assertThat(sentinel.topology()).isEqualTo(Topology.SENTINEL);
    assertThat(sentinel.nodes()).containsExactly("s1:26379", "s2:26380");
    assertThat(sentinel.masterName()).isEqualTo("orders");
    assertThat(sentinel.database()).isEqualTo(2);
    assertThat(sentinel).hasToString("redis-sentinel://s1:26379,s2:26380/2#orders");
    assertThat(RedisAddress.parse("rediss-sentinel://s1:1#m").tls()).isTrue();
  }

  @Test
  void parse_cluster() {
    RedisAddress cluster = RedisAddress.parse("rediss-cluster://n1:7000,n2:7001,[::1]:7002");
    assertThat(cluster.topology()).isEqualTo(Topology.CLUSTER);
    assertThat(cluster.tls()).isTrue();
    assertThat(cluster.nodes()).containsExactly("n1:7000", "n2:7001", "[::1]:7002");
    assertThat(cluster.uri(cluster.nodes().get(0))).isEqualTo("rediss://n1:7000");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "http://h:1|unknown scheme 'http'",
    "redis://h:1,h:2|a standalone address names one server",
    "redis-sentinel://s1:1,s2:2|a Sentinel address must end with #<master name>",
    "redis-sentinel://s1:1#|a Sentinel address must end with #<master name>",
    "redis-cluster://n1:1,n2|'n2' is not host:port",
    "redis-cluster://n1:1/2|Redis Cluster has only database 0",
    "redis-cluster://n1:1#m|a Cluster address takes no #fragment",
    "redis://h:1/x|the path must be a database number >= 0, was '/x'",
    "redis-cluster://n1:99999|'n1:99999' is not host:port",
  })
  void parse_invalid_namesTheAddressAndWhy(String address, String why) {
    assertThatThrownBy(() -> RedisAddress.parse(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("address must be host:port, redis[s]://")
        .hasMessageContaining(why)
        .hasMessageEndingWith("was '" + address + "'");
  }

  @Test
  void parse_invalid_masksThePassword() {
    assertThatThrownBy(() -> RedisAddress.parse("redis://u:hunter2@h:1,h:2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("was 'redis://u:****@h:1,h:2'")
        .message().doesNotContain("hunter2");
  }

  @Test
  void parse_passwordWithAnUnencodedHashOrSlash_staysThePassword_andIsNeverPrinted() {
    RedisAddress sentinel = RedisAddress.parse("redis-sentinel://app:9#1@s1:26379#orders");
    assertThat(sentinel.password()).isEqualTo("9#1");
    assertThat(sentinel.nodes()).containsExactly("s1:26379");
    assertThat(sentinel.masterName()).isEqualTo("orders");
    assertThat(sentinel).hasToString("redis-sentinel://s1:26379#orders");

    assertThat(RedisAddress.parse("redis-sentinel://s1:26379#orders@dc1").masterName()).isEqualTo("orders@dc1");
    RedisAddress both = RedisAddress.parse("redis-sentinel://u:p#1@s1:26379#orders@dc1");
    assertThat(both.password()).isEqualTo("p#1");
    assertThat(both.masterName()).isEqualTo("orders@dc1");
    assertThat(RedisAddress.mask("redis-sentinel://u:p#1@s1:26379#orders@dc1")).doesNotContain("p#1");
    assertThatThrownBy(() -> RedisAddress.parse("redis-sentinel://u:p#1@s1:26379")) // no master name
        .isInstanceOf(IllegalArgumentException.class)
        .message().doesNotContain("p#1").doesNotContain("u:p");

    RedisAddress standalone = RedisAddress.parse("redis://u:ab/cd@h:6379/2");
    assertThat(standalone.password()).isEqualTo("ab/cd");
    assertThat(standalone.database()).isEqualTo(2);
    assertThatThrownBy(() -> RedisAddress.parse("redis://u:hun/ter2@h:6379/x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the path must be a database number")
        .message().doesNotContain("ter2").doesNotContain("hun/");
  }

  @ParameterizedTest
  @ValueSource(strings = {"redis://u:hunter2@host", "rediss://u:hunter2@host/0", "redis://:hunter2@h:x",
      "default:hunter2@redis.internal:6379"})
  void parse_invalidStandalone_masksThePassword(String address) {
    assertThatThrownBy(() -> RedisAddress.parse(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(":****@")
        .message().doesNotContain("hunter2");
  }

  @Test
  void parse_missingPort_keepsTheFamiliarMessage() {
    assertThatThrownBy(() -> RedisAddress.parse("localhost"))
        .hasMessage("address must be host:port or redis://host:port, was 'localhost'");
    assertThat(List.of(RedisAddress.parse("redis://h:1").nodes())).hasSize(1);
  }
}
