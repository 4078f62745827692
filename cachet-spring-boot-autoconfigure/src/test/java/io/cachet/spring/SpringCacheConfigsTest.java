package io.cachet.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.BackendOptions;
import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import io.cachet.RemovalCause;
import io.cachet.RemovalListener;
import io.cachet.codec.Codecs;
import io.cachet.redis.RedisOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.springframework.cache.support.NullValue;

/** How a configuration is made able to hold Spring's {@code NullValue}. */
final class SpringCacheConfigsTest {

  record Order(String id) {}

  @Test
  void forSpring_withARemovalListener_widensTheValuesAndKeepsEveryOption() {
    FakeTicker ticker = new FakeTicker();
    Executor executor = Runnable::run;
    List<String> removed = new ArrayList<>();
    RedisOptions redis = RedisOptions.builder().address("redis://127.0.0.1:1").keyPrefix("orders:").build();
    CacheConfig<String, Order> config = CacheConfig.builder("orders")
        .backend("redis")
        .maximumSize(7)
        .evictionPolicy(EvictionPolicy.LRU)
        .expireAfterWrite(Duration.ofMinutes(10))
        .refreshAfterWrite(Duration.ofMinutes(1))
        .perEntryTtl(false)
        .recordStats(false)
        .valueCodec(Codecs.json(Order.class))
        .ticker(ticker)
        .clock(ticker)
        .executor(executor)
        .backendOptions(redis)
        .removalListener((key, value, cause) -> removed.add(key + "=" + value.id() + ":" + cause))
        .build();

    CacheConfig<?, ?> spring = SpringCacheConfigs.forSpring(config, true);

    assertThat(spring.valueType()).isEqualTo(Object.class);
    assertThat(spring.valueCodec()).get().isInstanceOf(NullValueCodec.class);
    assertThat(spring.name()).isEqualTo("orders");
    assertThat(spring.backend()).isEqualTo("redis");
    assertThat(spring.maximumSize()).isEqualTo(7);
    assertThat(spring.evictionPolicy()).isEqualTo(EvictionPolicy.LRU);
    assertThat(spring.expireAfterWrite()).contains(Duration.ofMinutes(10));
    assertThat(spring.refreshAfterWrite()).contains(Duration.ofMinutes(1));
    assertThat(spring.expireAfterAccess()).isEmpty();
    assertThat(spring.perEntryTtl()).isFalse();
    assertThat(spring.recordStats()).isFalse();
    assertThat(spring.keyType()).isEqualTo(String.class);
    assertThat(spring.keyCodec()).isEqualTo(config.keyCodec());
    assertThat(spring.ticker()).isSameAs(ticker);
    assertThat(spring.clock()).isSameAs(ticker);
    assertThat(spring.executor()).isSameAs(executor);
    assertThat(spring.backendOptions(RedisOptions.class)).containsSame(redis);
    assertThat(spring.toString()).isEqualTo(config.toString().replace(
        "valueType=" + Order.class.getName(), "valueType=java.lang.Object"));

    @SuppressWarnings("unchecked")
    RemovalListener<Object, Object> listener = (RemovalListener<Object, Object>) spring.removalListener().orElseThrow();
    listener.onRemoval("1", new Order("1"), RemovalCause.EXPLICIT);
    listener.onRemoval("2", NullValue.INSTANCE, RemovalCause.EXPLICIT);
    assertThat(removed).containsExactly("1=1:EXPLICIT");
  }

  @Test
  void forSpring_withARemovalListenerOnALocalCache_givesItObjectValues() {
    CacheConfig<String, String> config = CacheConfig.builder("local")
        .expireAfterAccess(Duration.ofMinutes(5))
        .removalListener((key, value, cause) -> {})
        .build();

    CacheConfig<?, ?> spring = SpringCacheConfigs.forSpring(config, true);

    assertThat(spring.valueType()).isEqualTo(Object.class);
    assertThat(spring.expireAfterAccess()).contains(Duration.ofMinutes(5));
    assertThat(spring.perEntryTtl()).isFalse();
    assertThat(spring.removalListener()).isPresent();
  }

  record OtherOptions(String setting) implements BackendOptions {}

  @Test
  void forSpring_withARemovalListenerAndOptionsOfAnyBackend_keepsThem() {
    CacheConfig<String, String> config = CacheConfig.builder("other")
        .backendOptions(new OtherOptions("x"))
        .removalListener((key, value, cause) -> {})
        .build();

    CacheConfig<?, ?> spring = SpringCacheConfigs.forSpring(config, true);

    assertThat(spring.backendOptions(OtherOptions.class)).contains(new OtherOptions("x"));
    assertThat(spring.valueType()).isEqualTo(Object.class);
    assertThat(spring.removalListener()).isPresent();
  }
}
