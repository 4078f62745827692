package io.cachet.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import io.cachet.FakeTicker;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The skeleton's single-flight loads on a map-backed test backend, for what the backend contract
 * cannot reach from outside: what happens between a load's store and its end.
 */
final class LoadsTest {

  private final FakeTicker ticker = new FakeTicker();

  /**
   * A removal overtook the load, so the load takes back the value it stored, even when a write
   * of the key that changed nothing (a putIfAbsent that found the value) began after that store:
   * the value was read before the removal, and must not outlive it.
   */
  @Test
  void loadOvertakenByARemoval_aWriteThatChangedNothingSince_stillTakesBackTheValue() {
    MapCache<String> cache = new MapCache<>(config().build());
    cache.afterStoreLoaded = () -> {
      cache.afterStoreLoaded = null;
      assertThat(cache.putIfAbsent("k", "other")).isFalse();
    };

    String got = cache.get("k", key -> {
      cache.remove("k"); // an application changed its source, then removed the key
      return "read before the change";
    });

    assertThat(got).isEqualTo("read before the change");
    assertThat(cache.get("k")).as("the value the removal outdated").isNull();
  }

  @Test
  void loadOvertakenByARemoval_withNoWriteSince_takesBackTheValueItStored() {
    MapCache<String> cache = new MapCache<>(config().build());

    String got = cache.get("k", key -> {
      cache.remove("k");
      return "v";
    });

    assertThat(got).isEqualTo("v");
    assertThat(cache.get("k")).as("read before the removal: not left in the cache").isNull();
  }

  /** A key whose text cannot be made: its loads still end, and leave nothing behind in flight. */
  @Test
  void keyWhoseToStringThrows_isLoadedAndItsLoadEnds() {
    MapCache<Opaque> cache = new MapCache<>(config().keyCodec(io.cachet.codec.Codecs.javaSerialization(Opaque.class)).build());
    Opaque key = new Opaque(1);

    assertThat(cache.get(key, k -> "v")).isEqualTo("v");
    cache.remove(key);
    assertThat(cache.get(key, k -> "w")).as("a second load of the key: none left in flight").isEqualTo("w");
    assertThat(cache.getAll(Set.of(new Opaque(2)), keys -> Map.of(new Opaque(2), "x")))
        .containsEntry(new Opaque(2), "x");
    assertThatThrownBy(() -> cache.get(new Opaque(3), k -> {
      throw new IllegalStateException("source down");
    })).isInstanceOf(CacheLoadException.class)
        .hasMessageContaining("whose toString() failed").hasMessageContaining("source down");
    assertThat(cache.get(new Opaque(3), k -> "y")).isEqualTo("y");
  }

  private CacheConfig.Builder<String, String> config() {
    return CacheConfig.builder("loads").ticker(ticker).clock(ticker).executor(Runnable::run);
  }

  /** A key whose {@code toString} fails. */
  record Opaque(int id) implements java.io.Serializable {
    @Override
    public String toString() {
      throw new UnsupportedOperationException("no text for this key");
    }
  }
}
