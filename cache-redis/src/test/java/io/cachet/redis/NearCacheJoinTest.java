package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.CacheConfig;
import io.cachet.Ticker;
import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Which in-flight read of a key a new read may share instead of reading Redis itself. */
final class NearCacheJoinTest {

  private final NearCache<String, String> near = new NearCache<>(
      CacheConfig.builder("join").maximumSize(100).build(),
      RedisOptions.builder().address("redis://127.0.0.1:1").build(),
      Codecs.utf8(), "p:".getBytes(StandardCharsets.UTF_8), true, Ticker.system());

  @Test
  void readOfTheSameCoherentEpoch_isJoined() {
    near.listener().up();
    NearLoad<String> theirs = near.newLoad();
    assertThat(near.register("k", theirs)).isNull();
    assertThat(near.register("k", near.newLoad())).isSameAs(theirs);
  }

  @Test
  void readFlaggedByAnInvalidation_isReplaced() {
    near.listener().up();
    NearLoad<String> theirs = near.newLoad();
    near.register("k", theirs);
    near.listener().invalidate("p:k".getBytes(StandardCharsets.UTF_8));
    NearLoad<String> mine = near.newLoad();
    assertThat(near.register("k", mine)).isNull();
  }

  @Test
  void readRegisteredWhileInvalidationsWereLost_isNotJoinedOnceTheyFlowAgain() {
    // Tracking is down: a read goes to Redis, and a write's invalidation may be lost meanwhile.
    near.listener().up();
    near.listener().down(new IllegalStateException("connection lost"));
    NearLoad<String> theirs = near.newLoad();
    assertThat(near.register("k", theirs)).isNull();
    // Tracking is back; a new reader must not take the older read's (possibly stale) answer.
    near.listener().up();
    NearLoad<String> mine = near.newLoad();
    assertThat(near.register("k", mine)).isNull();
    NearLoad<String> next = near.newLoad();
    assertThat(near.register("k", next)).isSameAs(mine);
  }

  @Test
  void readRegisteredInAnEarlierEpoch_isNotJoined_evenUnflagged() {
    near.listener().up();
    NearLoad<String> theirs = near.newLoad();
    near.register("k", theirs);
    near.listener().up(); // the epoch moves without flagging the load: only the epoch tells them apart
    assertThat(theirs.entry.invalidated).isFalse();
    assertThat(near.register("k", near.newLoad())).isNull();
  }

  @Test
  void olderReadRegisteringAfterANewerOne_replacesIt_andTheNewerOneCachesNothing() {
    near.listener().up();
    NearLoad<String> older = near.newLoad(); // created, not yet registered
    near.listener().invalidateAll(); // the epoch moves (a FLUSHDB, a clear, a reconnect)
    NearLoad<String> newer = near.newLoad();
    assertThat(near.register("k", newer)).isNull();
    // The older read registers late: it may not join the newer one's epoch, so it replaces it.
    assertThat(near.register("k", older)).isNull();
    // Another client's write is acknowledged and its invalidation processed: it can only flag the
    // read it finds registered, the older one.
    near.listener().invalidate("p:k".getBytes(StandardCharsets.UTF_8));
    // The newer read's answer predates that write; it must not be cached.
    near.storeValue("k", newer, "before the write", -1L, Ticker.system().read());
    assertThat(near.peek("k")).isNull();
  }

  @Test
  void whileInvalidationsAreLost_concurrentReadsAreNotMerged() {
    // Nothing would show a foreign write between the two: each read goes to Redis itself.
    near.listener().up();
    near.listener().down(new IllegalStateException("connection lost"));
    NearLoad<String> theirs = near.newLoad();
    assertThat(near.register("k", theirs)).isNull();
    assertThat(near.register("k", near.newLoad())).isNull();
  }

  /**
   * A loss of tracking is reported on Redisson's I/O thread under the hub's lock: the stores are
   * emptied on the cache's executor, not there, and nothing in them is served meanwhile.
   */
  @Test
  void lossOfTracking_emptiesTheStoresOnTheExecutor_andServesNothingMeanwhile() {
    java.util.List<Runnable> tasks = new java.util.ArrayList<>();
    NearCache<String, String> near = new NearCache<>(
        CacheConfig.builder("down").maximumSize(100).executor(tasks::add).build(),
        RedisOptions.builder().address("redis://127.0.0.1:1").build(),
        Codecs.utf8(), "p:".getBytes(StandardCharsets.UTF_8), true, Ticker.system());
    cacheAValue(near);
    assertThat(near.peek("k")).isEqualTo("v");

    tasks.clear();
    near.listener().down(new IllegalStateException("connection lost"));
    assertThat(near.peek("k")).as("not served once tracking is lost").isNull();
    assertThat(near.estimatedSize()).as("emptied later, on the executor").isEqualTo(1);
    assertThat(tasks).hasSize(1);
    tasks.get(0).run();
    assertThat(near.estimatedSize()).isZero();
  }

  /**
   * A FLUSHALL reaches every cache of a client on one thread: each moves its epoch there (nothing
   * is served from then on) and empties its stores on its own executor, not holding up the next.
   */
  @Test
  void flushAll_emptiesTheStoresOnTheExecutor_andServesNothingMeanwhile() {
    java.util.List<Runnable> tasks = new java.util.ArrayList<>();
    NearCache<String, String> near = new NearCache<>(
        CacheConfig.builder("flush").maximumSize(100).executor(tasks::add).build(),
        RedisOptions.builder().address("redis://127.0.0.1:1").build(),
        Codecs.utf8(), "p:".getBytes(StandardCharsets.UTF_8), true, Ticker.system());
    cacheAValue(near);

    tasks.clear();
    near.listener().invalidateAll();
    assertThat(near.peek("k")).as("not served once flushed").isNull();
    assertThat(near.staleCopy("k")).as("not even stale, when Redis fails (serveStaleOnError)").isNull();
    assertThat(near.estimatedSize()).as("emptied later, on the executor").isEqualTo(1);
    assertThat(tasks).hasSize(1);
    tasks.get(0).run();
    assertThat(near.estimatedSize()).isZero();
  }

  /** Another client's key that this cache's codec decodes to null is no key of this cache. */
  @Test
  void invalidationOfAKeyTheCodecDecodesToNull_isIgnored() {
    Codec<String> nullForBad = new Codec<>() {
      @Override
      public byte[] encode(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        return text.equals("bad") ? null : text;
      }

      @Override
      public Class<String> type() {
        return String.class;
      }
    };
    NearCache<String, String> near = new NearCache<>(
        CacheConfig.builder("nulls").maximumSize(100).build(),
        RedisOptions.builder().address("redis://127.0.0.1:1").build(),
        nullForBad, "p:".getBytes(StandardCharsets.UTF_8), true, Ticker.system());
    cacheAValue(near);

    near.listener().invalidate("p:bad".getBytes(StandardCharsets.UTF_8));

    assertThat(near.peek("k")).isEqualTo("v");
  }

  /** An executor that throws cannot fail down(): the hub must tell every cache, and the stores are emptied here. */
  @Test
  void lossOfTracking_withAnExecutorThatThrows_stillGoesDown_andEmptiesTheStoresInline() {
    NearCache<String, String> near = new NearCache<>(
        CacheConfig.builder("down").maximumSize(100).executor(task -> {
          throw new IllegalStateException("shut down");
        }).build(),
        RedisOptions.builder().address("redis://127.0.0.1:1").build(),
        Codecs.utf8(), "p:".getBytes(StandardCharsets.UTF_8), true, Ticker.system());
    cacheAValue(near);

    near.listener().down(new IllegalStateException("connection lost"));
    assertThat(near.peek("k")).isNull();
    assertThat(near.estimatedSize()).isZero();
  }

  /** Tracking up, then {@code k = v} read and stored as a near entry. */
  private static void cacheAValue(NearCache<String, String> near) {
    near.listener().up();
    NearLoad<String> load = near.newLoad();
    near.register("k", load);
    near.storeValue("k", load, "v", null, Ticker.system().read());
    near.deregister("k", load);
  }
}
