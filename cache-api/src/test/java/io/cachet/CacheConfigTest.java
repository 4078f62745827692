package io.cachet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.codec.Codecs;
import java.time.Duration;
import org.junit.jupiter.api.Test;

final class CacheConfigTest {

  record TestOptions(String value) implements BackendOptions {}

  @Test
  void withoutRemovalListener_letsTheValueTypeChange_andAnotherListenerBeSet() {
    CacheConfig<String, String> config = CacheConfig.builder("c").removalListener((k, v, cause) -> {}).build();
    assertThatThrownBy(() -> config.toBuilder().valueType(Object.class))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("must be set before removalListener");

    CacheConfig<String, Object> widened = config.toBuilder().withoutRemovalListener().valueType(Object.class).build();
    assertThat(widened.removalListener()).isEmpty();
    RemovalListener<String, Object> another = (k, v, cause) -> {};
    assertThat(config.toBuilder().withoutRemovalListener().valueType(Object.class).removalListener(another).build()
        .removalListener()).containsSame(another);
  }

  @Test
  void builder_defaults() {
    CacheConfig<String, String> config = CacheConfig.builder("c").build();
    assertThat(config.name()).isEqualTo("c");
    assertThat(config.backend()).isEqualTo(CacheConfig.DEFAULT_BACKEND);
    assertThat(config.maximumSize()).isEqualTo(CacheConfig.DEFAULT_MAXIMUM_SIZE);
    assertThat(config.evictionPolicy()).isEqualTo(EvictionPolicy.TINY_LFU);
    assertThat(config.expireAfterWrite()).isEmpty();
    assertThat(config.perEntryTtl()).isTrue();
    assertThat(config.recordStats()).isTrue();
    assertThat(config.keyType()).isEqualTo(String.class);
    assertThat(config.valueType()).isEqualTo(String.class);
    assertThat(config.keyCodec()).containsSame(Codecs.utf8());
    assertThat(config.valueCodec()).containsSame(Codecs.utf8());
    assertThat(config.removalListener()).isEmpty();
  }

  @Test
  void name_nullOrBlank_rejectedNamingIt() {
    assertThatThrownBy(() -> CacheConfig.builder(null)).isInstanceOf(NullPointerException.class).hasMessage("name");
    assertThatThrownBy(() -> CacheConfig.builder(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name must not be blank, was ' '");
  }

  @Test
  void maximumSize_negative_rejectedNamingTheValue() {
    assertThatThrownBy(() -> CacheConfig.builder("c").maximumSize(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maximumSize must be >= 0, was -1");
  }

  @Test
  void expireAfterWrite_zeroOrNegative_rejectedNamingTheValue() {
    assertThatThrownBy(() -> CacheConfig.builder("c").expireAfterWrite(Duration.ofSeconds(-3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expireAfterWrite must be > 0, was PT-3S");
    assertThatThrownBy(() -> CacheConfig.builder("c").expireAfterWrite(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expireAfterWrite must be > 0, was PT0S");
  }

  @Test
  void nullArguments_rejectedNamingTheOption() {
    CacheConfig.Builder<String, String> b = CacheConfig.builder("c");
    assertThatThrownBy(() -> b.ticker(null)).isInstanceOf(NullPointerException.class).hasMessage("ticker");
    assertThatThrownBy(() -> b.executor(null)).isInstanceOf(NullPointerException.class).hasMessage("executor");
    assertThatThrownBy(() -> b.evictionPolicy(null)).isInstanceOf(NullPointerException.class).hasMessage("evictionPolicy");
    assertThatThrownBy(() -> b.expireAfterWrite(null)).isInstanceOf(NullPointerException.class).hasMessage("expireAfterWrite");
  }

  @Test
  void option_setTwice_rejected() {
    CacheConfig.Builder<String, String> b = CacheConfig.builder("c").maximumSize(10);
    assertThatThrownBy(() -> b.maximumSize(20))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("maximumSize was already set to 10");
    assertThat(b.build().maximumSize()).isEqualTo(10);
  }

  @Test
  void backendOptions_oneInstancePerType() {
    CacheConfig<String, String> config = CacheConfig.builder("c").backendOptions(new TestOptions("a")).build();
    assertThat(config.backendOptions(TestOptions.class)).contains(new TestOptions("a"));
    assertThatThrownBy(() -> config.toBuilder().backendOptions(new TestOptions("b")).backendOptions(new TestOptions("c")))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void toBuilder_copiesValuesAndAllowsEachOptionOnceMore() {
    FakeTicker ticker = new FakeTicker();
    CacheConfig<String, String> original =
        CacheConfig.builder("c").maximumSize(5).expireAfterWrite(Duration.ofSeconds(9)).ticker(ticker).build();
    CacheConfig<String, String> changed = original.toBuilder().maximumSize(6).build();
    assertThat(changed.maximumSize()).isEqualTo(6);
    assertThat(changed.expireAfterWrite()).contains(Duration.ofSeconds(9));
    assertThat(changed.ticker()).isSameAs(ticker);
    assertThat(original.maximumSize()).isEqualTo(5);
  }

  @Test
  void option_parsesTextForms() {
    ClassLoader loader = getClass().getClassLoader();
    CacheConfig<?, ?> config =
        CacheConfig.builder("c")
            .option("backend", "local")
            .option("maximumSize", "10_000")
            .option("evictionPolicy", "lru")
            .option("expireAfterWrite", "5m")
            .option("perEntryTtl", "FALSE")
            .option("recordStats", "false")
            .option("keyCodec", "bytes", loader)
            .option("valueCodec", "java", loader)
            .build();
    assertThat(config.maximumSize()).isEqualTo(10_000);
    assertThat(config.evictionPolicy()).isEqualTo(EvictionPolicy.LRU);
    assertThat(config.expireAfterWrite()).contains(Duration.ofMinutes(5));
    assertThat(config.perEntryTtl()).isFalse();
    assertThat(config.recordStats()).isFalse();
    assertThat(config.keyCodec().orElseThrow()).isSameAs(Codecs.bytes());
    assertThat(config.keyType()).isEqualTo(byte[].class);
    assertThat(config.valueCodec().orElseThrow().type()).isEqualTo(java.io.Serializable.class);
    assertThat(config.valueType()).isEqualTo(java.io.Serializable.class);
    assertThat(CacheConfig.builder("d").option("evictionPolicy", "tiny-lfu").build().evictionPolicy())
        .isEqualTo(EvictionPolicy.TINY_LFU);
  }

  @Test
  void option_invalidValues_rejectedNamingOptionAndValue() {
    CacheConfig.Builder<String, String> b = CacheConfig.builder("c");
    assertThatThrownBy(() -> b.option("maximumSize", "lots"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maximumSize must be a whole number, was 'lots'");
    assertThatThrownBy(() -> b.option("maximumSize", "-4"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maximumSize must be >= 0, was -4");
    assertThatThrownBy(() -> b.option("evictionPolicy", "fifo"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("evictionPolicy must be one of [LRU, TINY_LFU], was 'fifo'");
    assertThatThrownBy(() -> b.option("expireAfterWrite", "10"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expireAfterWrite must be a duration such as 500ms")
        .hasMessageContaining("was '10'");
    assertThatThrownBy(() -> b.option("recordStats", "yes"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("recordStats must be true or false, was 'yes'");
    ClassLoader loader = getClass().getClassLoader();
    assertThatThrownBy(() -> b.option("keyCodec", "json", loader))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keyCodec must be one of string, bytes, java, java:<class name>, json:<class name>; was 'json'");
    assertThatThrownBy(() -> b.option("valueType", "com.example.Missing", loader))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("valueType must name a class on the class path, was 'com.example.Missing'");
    assertThatThrownBy(() -> b.option("keyCodec", "bytes"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("keyCodec changes the cache's types");
    assertThatThrownBy(() -> b.option("maxSize", "4"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("unknown option 'maxSize' for cache 'c'");
    // Nothing was set by the failed calls.
    assertThat(b.build().maximumSize()).isEqualTo(CacheConfig.DEFAULT_MAXIMUM_SIZE);
  }

  record Order(long id) implements java.io.Serializable {}

  @Test
  void types_fixedByExplicitTypes_withoutCodecsForOtherTypes() {
    CacheConfig<Long, Order> config =
        CacheConfig.builder("orders").keyType(Long.class).valueType(Order.class).build();
    assertThat(config.keyType()).isEqualTo(Long.class);
    assertThat(config.valueType()).isEqualTo(Order.class);
    assertThat(config.keyCodec()).isEmpty();
    assertThat(config.valueCodec()).isEmpty();
    CacheConfig<byte[], String> bytes = CacheConfig.builder("b").keyType(byte[].class).build();
    assertThat(bytes.keyCodec()).containsSame(Codecs.bytes());
    assertThat(bytes.valueCodec()).containsSame(Codecs.utf8());
  }

  @Test
  void types_fixedByCodecs() {
    CacheConfig<String, Order> config =
        CacheConfig.builder("orders").valueCodec(Codecs.javaSerialization(Order.class)).build();
    assertThat(config.valueType()).isEqualTo(Order.class);
    assertThat(config.valueCodec().orElseThrow().decode(config.valueCodec().orElseThrow().encode(new Order(7))))
        .isEqualTo(new Order(7));
    // A type and a codec that agree, in either order.
    assertThat(CacheConfig.builder("a").valueType(Order.class).valueCodec(Codecs.javaSerialization(Order.class))
            .build().valueType())
        .isEqualTo(Order.class);
  }

  @Test
  void types_codecOfAnotherType_rejectedNamingBoth() {
    assertThatThrownBy(() -> CacheConfig.builder("a").valueType(Order.class).valueCodec(Codecs.utf8()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("valueCodec: the codec handles java.lang.String but the type is " + Order.class.getName());
    assertThatThrownBy(() -> CacheConfig.builder("a").keyCodec(Codecs.bytes()).keyType(Long.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keyType: the codec handles [B but the type is java.lang.Long");
  }

  @Test
  void types_afterRemovalListener_rejected() {
    CacheConfig.Builder<String, String> b = CacheConfig.builder("a").removalListener((k, v, cause) -> {});
    assertThatThrownBy(() -> b.valueType(Order.class))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("valueType must be set before removalListener, whose type depends on it");
  }

  @Test
  void option_typesFromText() {
    ClassLoader loader = getClass().getClassLoader();
    CacheConfig<?, ?> config =
        CacheConfig.builder("c")
            .option("keyType", "java.lang.Long", loader)
            .option("valueCodec", "java:" + Order.class.getName(), loader)
            .build();
    assertThat(config.keyType()).isEqualTo(Long.class);
    assertThat(config.valueType()).isEqualTo(Order.class);
  }

  @Test
  void javaSerialization_bytesOfAnotherType_rejected() {
    byte[] aString = Codecs.javaSerialization(String.class).encode("x");
    assertThatThrownBy(() -> Codecs.javaSerialization(Order.class).decode(aString))
        .isInstanceOf(io.cachet.codec.CodecException.class)
        .hasMessageContaining("expected a " + Order.class.getName() + " but");
  }

  @Test
  void types_oldBuilderAfterATypeChange_refusedSoItsTypesCannotLie() {
    CacheConfig.Builder<String, String> b = CacheConfig.builder("x");
    CacheConfig.Builder<Long, String> typed = b.keyType(Long.class);
    assertThatThrownBy(() -> b.removalListener((String k, String v, RemovalCause c) -> k.length()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("was replaced by the one a type option");
    assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> b.maximumSize(3)).isInstanceOf(IllegalStateException.class);
    assertThat(typed.maximumSize(3).build().keyType()).isEqualTo(Long.class);
  }

  @Test
  void types_failedTypeOption_canBeSetAgain() {
    CacheConfig.Builder<String, Order> b =
        CacheConfig.builder("x").valueCodec(Codecs.javaSerialization(Order.class));
    assertThatThrownBy(() -> b.valueType(String.class)).isInstanceOf(IllegalArgumentException.class);
    assertThat(b.valueType(Order.class).build().valueType()).isEqualTo(Order.class);
  }

  @Test
  void types_toBuilderKeepsAChosenCodec_andRefusesATypeItCannotEncode() {
    CacheConfig<String, Order> config =
        CacheConfig.builder("x").valueCodec(Codecs.javaSerialization(Order.class)).build();
    assertThatThrownBy(() -> config.toBuilder().valueType(Long.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the codec handles " + Order.class.getName());
    assertThat(config.toBuilder().valueType(Order.class).build().valueCodec())
        .containsSame(config.valueCodec().orElseThrow());
  }

  @Test
  void refreshAfterWrite_setAndParsed() {
    assertThat(CacheConfig.builder("c").build().refreshAfterWrite()).isEmpty();
    assertThat(CacheConfig.builder("c").refreshAfterWrite(Duration.ofSeconds(30)).build().refreshAfterWrite())
        .contains(Duration.ofSeconds(30));
    assertThat(CacheConfig.builder("c").option("refreshAfterWrite", "30s").build().refreshAfterWrite())
        .contains(Duration.ofSeconds(30));
    assertThat(CacheConfig.OPTION_NAMES).contains("refreshAfterWrite");
    assertThat(CacheConfig.builder("c").refreshAfterWrite(Duration.ofSeconds(30)).build().toBuilder().build()
        .refreshAfterWrite()).contains(Duration.ofSeconds(30));
  }

  @Test
  void refreshAfterWrite_zeroNegativeOrTwice_refusedNamingTheValue() {
    assertThatThrownBy(() -> CacheConfig.builder("c").refreshAfterWrite(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("refreshAfterWrite must be > 0, was PT0S");
    assertThatThrownBy(() -> CacheConfig.builder("c").refreshAfterWrite(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refreshAfterWrite must be > 0");
    assertThatThrownBy(() -> CacheConfig.builder("c").refreshAfterWrite(Duration.ofSeconds(1)).refreshAfterWrite(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("refreshAfterWrite was already set to PT1S");
  }

  @Test
  void refreshAfterWrite_notShorterThanExpireAfterWrite_refusedNamingBoth() {
    assertThatThrownBy(() -> CacheConfig.builder("c")
            .refreshAfterWrite(Duration.ofMinutes(10)).expireAfterWrite(Duration.ofMinutes(5)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refreshAfterWrite (PT10M)")
        .hasMessageContaining("expireAfterWrite (PT5M)");
    assertThat(CacheConfig.builder("c").refreshAfterWrite(Duration.ofMinutes(1)).expireAfterWrite(Duration.ofMinutes(5))
        .build().refreshAfterWrite()).contains(Duration.ofMinutes(1));
  }
}
