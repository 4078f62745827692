package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheNotReadyException;
import io.cachet.codec.Codecs;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * What each write operation decides, records and answers, on a replica fed by the test
 * ({@link LocalLog}); no broker.
 */
final class CacheWritesTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  @Test
  void put_fullReplicaHoldingTheKeyExpired_isNotRefused() {
    try (LocalLog log = fullWithExpiredKey()) {
      CompletableFuture<Void> put = log.writes.put("a", "2", null);

      assertThat(put).as("not refused as a new key").isNotDone();
      log.apply(log.nextSent());
      assertThat(put).succeedsWithin(WAIT);
      assertThat(log.replica.get("a").value()).isEqualTo("2");
      assertThat(log.replica.size()).isEqualTo(1);
    }
  }

  @Test
  void putIfAbsent_fullReplicaHoldingTheKeyExpired_storesTheValue() {
    try (LocalLog log = fullWithExpiredKey()) {
      CompletableFuture<Boolean> put = log.writes.putIfAbsent("a", "2");

      assertThat(put).as("not refused as a new key").isNotDone();
      log.apply(log.nextSent());
      assertThat(put).succeedsWithin(WAIT).isEqualTo(true);
      assertThat(log.replica.get("a").value()).isEqualTo("2");
    }
  }

  @Test
  void storeLoaded_fullReplicaHoldingTheKeyExpired_storesTheValue() {
    try (LocalLog log = fullWithExpiredKey()) {
      CompletableFuture<String> stored = log.writes.storeLoaded("a", "loaded");

      assertThat(stored).as("not refused as a new key").isNotDone();
      log.apply(log.nextSent());
      assertThat(stored).succeedsWithin(WAIT).isEqualTo("loaded");
    }
  }

  @Test
  void storeLoaded_storesTheValue_countsAPut() {
    try (LocalLog log = new LocalLog()) {
      CompletableFuture<String> stored = log.writes.storeLoaded("k", "loaded");
      log.apply(log.nextSent());

      assertThat(stored).succeedsWithin(WAIT).isEqualTo("loaded");
      assertThat(log.replica.get("k").value()).isEqualTo("loaded");
      assertThat(log.stats.snapshot().putCount()).isEqualTo(1);
    }
  }

  @Test
  void storeLoaded_anotherValueIsThere_returnsItAndCountsNoPut() {
    try (LocalLog log = new LocalLog()) {
      log.applyOther("k", "theirs", 0);
      CompletableFuture<String> stored = log.writes.storeLoaded("k", "loaded");
      log.apply(log.nextSent());

      assertThat(stored).succeedsWithin(WAIT).isEqualTo("theirs");
      assertThat(log.replica.get("k").value()).isEqualTo("theirs");
      assertThat(log.stats.snapshot().putCount()).isZero();
    }
  }

  @Test
  void put_fullReplica_refusesANewKey() {
    try (LocalLog log = fullWithExpiredKey()) {
      assertThat(log.writes.put("b", "2", null)).failsWithin(WAIT)
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(ReplicaFullException.class)
          .withMessageContaining("key 'b' was not written");
    }
  }

  @Test
  void removals_tellALoadInFlightOnceTheyAreSure() {
    try (LocalLog log = new LocalLog()) {
      log.writes.remove("a");
      log.writes.remove("b", "v");
      log.writes.expire("c", Duration.ZERO);
      log.writes.expire("d", Duration.ofMinutes(1));

      assertThat(log.removing).containsExactly("a", "b", "c");
    }
  }

  @Test
  void writesAskedFor_tellALoadInFlight_theLoadsOwnWritesDoNot() {
    try (LocalLog log = new LocalLog()) {
      log.writes.put("a", "1", null);
      log.writes.putIfAbsent("b", "1");
      log.writes.replace("c", "1");
      log.writes.replace("d", "0", "1");
      log.writes.storeLoaded("e", "1");
      log.writes.replaceReloaded("f", "0", "1");

      assertThat(log.written).containsExactly("a", "b", "c", "d");
    }
  }

  @Test
  void removals_refused_tellALoadInFlightNothing() {
    try (LocalLog log = new LocalLog(10_000, false, Codecs.utf8())) {
      assertThatThrownBy(() -> log.writes.remove("k", null)).isInstanceOf(NullPointerException.class);
      assertThatThrownBy(() -> log.writes.expire("k", Duration.ZERO)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("perEntryTtl(false)");
      log.writable = false;
      assertThatThrownBy(() -> log.writes.remove("k")).isInstanceOf(CacheNotReadyException.class);

      assertThat(log.removing).isEmpty();
    }
  }

  /** A replica of maximumSize 1 holding key "a", whose value expired before its removal record landed. */
  private static LocalLog fullWithExpiredKey() {
    LocalLog log = new LocalLog(1, true, Codecs.utf8());
    log.applyOther("a", "1", log.clock.millis() + 1_000);
    log.clock.advance(Duration.ofSeconds(2));
    assertThat(log.replica.size()).isEqualTo(1);
    return log;
  }
}
