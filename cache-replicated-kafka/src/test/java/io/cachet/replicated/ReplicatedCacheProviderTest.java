package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.codec.Codecs;
import io.cachet.spi.BackendContext;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

final class ReplicatedCacheProviderTest {

  @Test
  void create_byteArrayKeyCodec_rejectedBeforeConnecting() {
    try (CacheManager manager = CacheManager.create()) {
      // Rejected before any Kafka client is created: nothing listens on port 1.
      CacheConfig<byte[], String> config = CacheConfig.builder("bytes").backend(ReplicatedCacheProvider.NAME)
          .keyCodec(Codecs.bytes())
          .backendOptions(ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").build())
          .build();
      assertThatThrownBy(() -> manager.create(config))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cache 'bytes' on backend 'replicated-kafka': keyCodec must encode a type with value equality")
          .hasMessageContaining(Codecs.bytes().toString());
    }
  }

  @Test
  void create_maximumSizeZero_rejectedBeforeConnecting() {
    try (CacheManager manager = CacheManager.create()) {
      CacheConfig<String, String> config = CacheConfig.builder("none").backend(ReplicatedCacheProvider.NAME)
          .maximumSize(0)
          .backendOptions(ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").build())
          .build();
      assertThatThrownBy(() -> manager.create(config))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cache 'none'")
          .hasMessageContaining("maximumSize")
          .hasMessageContaining("0 would refuse every write");
      assertThat(manager.cacheNames()).isEmpty();
    }
  }

  @Test
  void create_failsWithAnError_closesTheAdminClient() {
    AtomicInteger closes = new AtomicInteger();
    // Fails every call but close() with an Error, as a class that fails to load would.
    Admin admin = FakeAdmin.of(closes, AdminError::new);
    CacheConfig<String, String> config = CacheConfig.builder("failing").backend(ReplicatedCacheProvider.NAME)
        .backendOptions(ReplicationOptions.builder().bootstrapServers("127.0.0.1:1").build())
        .build();

    assertThatThrownBy(() -> new ReplicatedCacheProvider(properties -> admin).create(config, new Context()))
        .isInstanceOf(AdminError.class);
    assertThat(closes).as("the admin client was closed").hasValue(1);
  }

  private static final class AdminError extends Error {
    private static final long serialVersionUID = 1L;
  }

  private static final class Context implements BackendContext {
    @Override
    public <R extends AutoCloseable> R sharedResource(Object key, Class<R> type, Supplier<R> factory) {
      return factory.get();
    }

    @Override
    public void closed(Cache<?, ?> cache) {}
  }
}
