package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.codec.Codecs;
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
}
