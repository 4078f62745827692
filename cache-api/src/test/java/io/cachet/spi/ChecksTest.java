package io.cachet.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.codec.Codecs;
import org.junit.jupiter.api.Test;

final class ChecksTest {

  @Test
  void keyCodec_returnsTheConfiguredCodec() {
    CacheConfig<Long, String> config = CacheConfig.builder("c").keyCodec(Codecs.javaSerialization(Long.class)).build();
    assertThat(Checks.keyCodec(config, "remote")).isSameAs(config.keyCodec().orElseThrow());
  }

  @Test
  void keyCodec_forAnArrayKey_isRefusedNamingCacheBackendCodecAndType() {
    CacheConfig<byte[], String> config = CacheConfig.builder("bytes").keyCodec(Codecs.bytes()).build();
    assertThatThrownBy(() -> Checks.keyCodec(config, "remote"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("cache 'bytes' on backend 'remote': keyCodec must encode a type with value equality")
        .hasMessageContaining("was " + Codecs.bytes() + " for [B")
        .hasMessageContaining("arrays compare by identity");
  }

  @Test
  void keyCodec_forAnArrayKeyWithoutCodec_isRefusedAsAnArrayKey() {
    CacheConfig<int[], String> config = CacheConfig.builder("ints").keyType(int[].class).build();
    assertThatThrownBy(() -> Checks.keyCodec(config, "remote"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyCodec must encode a type with value equality, was none for [I");
  }

  @Test
  void keyCodec_missing_isRefusedNamingTheOptionToSet() {
    CacheConfig<Long, String> config = CacheConfig.builder("longs").keyType(Long.class).build();
    assertThatThrownBy(() -> Checks.keyCodec(config, "remote"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cache 'longs' on backend 'remote' stores keys as bytes and needs a keyCodec for java.lang.Long;"
            + " set keyCodec(...)");
  }
}
