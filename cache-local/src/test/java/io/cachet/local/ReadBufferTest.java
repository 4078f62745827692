package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.FakeTicker;
import io.cachet.local.RecencyList.Node;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ring on its own, with the lock held by the test: what a hit does when the ring is full.
 * ({@link LruBufferedReadsTest} covers how the cache then serves it.)
 */
final class ReadBufferTest {

  private final RecencyList<String, String> recency = new RecencyList<>();
  @SuppressWarnings({"unchecked", "rawtypes"})
  private final CombiningLock<Node<String, String>> lock =
      new CombiningLock<>((Class) Node.class, node -> "served");
  private final ReadBuffer<String, String> reads =
      new ReadBuffer<>(recency, lock, new FakeTicker());

  @Test
  @Timeout(60) // a claim left unpublished would leave drainAll waiting forever
  void aHitOnAFullRing_returnsAtOnce_withoutClaimingASlot() throws Exception {
    List<Node<String, String>> nodes = new ArrayList<>();
    for (int i = 0; i < ReadBuffer.CAPACITY + 1; i++) {
      Node<String, String> node = new Node<>("k" + i, "v" + i, Long.MAX_VALUE);
      recency.linkLast(node);
      node.state = RecencyList.LIVE;
      nodes.add(node);
    }
    lock.lock(); // no reader can drain: the ring fills
    try {
      for (int i = ReadBuffer.CAPACITY - 1; i >= 0; i--) {
        assertThat(reads.read(nodes.get(i))).isEqualTo("v" + i);
      }
      // A reader that claimed first and waited for room would wait here for as long as the
      // lock is held, holding a claim every drain must wait for.
      Object full = CompletableFuture.supplyAsync(() -> reads.read(nodes.get(ReadBuffer.CAPACITY)))
          .get(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
      assertThat(full).isSameAs(ReadBuffer.SERVE);

      reads.drainAll(); // returns: the full hit claimed nothing, so no slot is left unpublished
    } finally {
      lock.unlock();
    }
    // The 64 buffered hits were applied in the order they were made; the 65th, left to the
    // caller to serve under the lock (LruStore), was not buffered.
    List<String> order = new ArrayList<>();
    recency.forEach(node -> order.add(node.key));
    List<String> expected = new ArrayList<>();
    expected.add("k" + ReadBuffer.CAPACITY);
    for (int i = ReadBuffer.CAPACITY - 1; i >= 0; i--) {
      expected.add("k" + i);
    }
    assertThat(order).containsExactlyElementsOf(expected);

    // Room again: the next hit is buffered.
    assertThat(reads.read(nodes.get(0))).isEqualTo("v0");
  }
}
