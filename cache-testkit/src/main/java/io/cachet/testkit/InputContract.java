package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cachet.Cache;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The bad-input part of the backend contract: null keys and values are refused naming the
 * argument, and a key its codec cannot represent is refused or kept exactly, never aliased.
 * Run by every {@link AbstractCacheContractTest}.
 */
interface InputContract extends ContractTopic {

  /**
   * A key its codec cannot represent (a lone surrogate has no UTF-8 form) is either refused with an
   * error naming its position, or kept exactly; it never aliases another key ({@code "?"}).
   */
  @Test
  default void keyWithoutAnEncoding_refusedNamingItsPosition_neverAliased() {
    Cache<String, String> cache = contract().newCache();
    cache.put("?", "question mark");
    String lone = "a\uD800";
    Throwable refused = catchThrowable(() -> cache.put(lone, "lone surrogate"));
    if (refused != null) {
      assertThat(refused).isInstanceOfAny(IllegalArgumentException.class, io.cachet.CacheException.class);
      assertThat(messages(refused)).contains("index 1");
      // A read of it is refused too, or finds nothing.
      Throwable read = catchThrowable(() -> assertThat(cache.get(lone)).isNull());
      if (read != null) {
        assertThat(read).isNotInstanceOf(AssertionError.class);
        assertThat(messages(read)).contains("index 1");
      }
    } else {
      assertThat(cache.get(lone)).isEqualTo("lone surrogate");
    }
    assertThat(cache.get("a?")).isNull();
    assertThat(cache.get("?")).isEqualTo("question mark");
  }

  @Test
  default void nullKey_everyOperationThrowsNamingKey() {
    Cache<String, String> cache = contract().newCache();
    List<Executable> calls =
        List.of(
            () -> cache.get(null),
            () -> cache.get(null, k -> "v"),
            () -> cache.put(null, "v"),
            () -> cache.put(null, "v", contract().ttlUnit()),
            () -> cache.putIfAbsent(null, "v"),
            () -> cache.replace(null, "v"),
            () -> cache.replace(null, "a", "b"),
            () -> cache.remove(null),
            () -> cache.remove(null, "v"),
            () -> cache.expire(null, contract().ttlUnit()),
            () -> cache.async().get(null));
    for (Executable call : calls) {
      assertThatThrownBy(call::execute).isInstanceOf(NullPointerException.class).hasMessage("key");
    }
    assertThat(cache.estimatedSize()).isZero();
  }

  @Test
  default void nullValue_everyWriteThrowsNamingValue() {
    Cache<String, String> cache = contract().newCache();
    cache.put("k", "v");
    List<Executable> calls =
        List.of(
            () -> cache.put("k", null),
            () -> cache.put("k", null, contract().ttlUnit()),
            () -> cache.putIfAbsent("other", null),
            () -> cache.replace("k", null),
            () -> cache.async().put("k", null));
    for (Executable call : calls) {
      assertThatThrownBy(call::execute).isInstanceOf(NullPointerException.class).hasMessage("value");
    }
    assertThatThrownBy(() -> cache.replace("k", null, "x")).isInstanceOf(NullPointerException.class).hasMessage("oldValue");
    assertThatThrownBy(() -> cache.replace("k", "v", null)).isInstanceOf(NullPointerException.class).hasMessage("newValue");
    assertThatThrownBy(() -> cache.get("k", null)).isInstanceOf(NullPointerException.class).hasMessage("loader");
    assertThat(cache.get("k")).isEqualTo("v");
    assertThat(cache.get("other")).isNull();
  }

  /** Returns the messages of {@code t} and its causes, one per line. */
  private static String messages(Throwable t) {
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      all.append(c.getMessage()).append('\n');
    }
    return all.toString();
  }
}
