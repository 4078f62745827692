package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.codec.Codecs;
import io.cachet.replicated.RecordMeta.Op;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The replica's queue of deadlines holds about one item per live entry, however often keys are rewritten. */
final class ReplicaDeadlinesTest {

  private static final long DEADLINE = 10_000_000L; // far after every record's time

  private final Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
  private long offset;

  private void put(String key, String value, long deadline) {
    RecordMeta meta = new RecordMeta(Op.PUT, false, 0, deadline, 1L, offset, "a");
    replica.apply(0, offset, 1_000 + offset, key.getBytes(UTF_8), value.getBytes(UTF_8), meta.encode(), 0);
    offset++;
  }

  @Test
  void rewritingOneKeyWithADeadline_keepsTheQueueBounded() {
    for (int i = 0; i < 100_000; i++) {
      put("k", "v" + i, DEADLINE + i);
    }
    assertThat(replica.deadlineItems()).as("items for one live key").isLessThan(5_000);
    // Still expires the key's latest state, at its latest deadline, and nothing else.
    assertThat(replica.pollExpired(DEADLINE + 99_998)).isEmpty();
    List<Map.Entry<String, Entry<String>>> due = replica.pollExpired(DEADLINE + 99_999);
    assertThat(due).hasSize(1);
    assertThat(due.get(0).getKey()).isEqualTo("k");
    assertThat(due.get(0).getValue().value()).isEqualTo("v99999");
  }

  @Test
  void oneHotKeyWithADeadline_amongManyWithout_keepsTheQueueBounded() {
    for (int k = 0; k < 20_000; k++) {
      put("plain" + k, "v", 0); // no deadline: no item, but an entry
    }
    for (int i = 0; i < 50_000; i++) {
      put("hot", "v" + i, DEADLINE + i);
    }
    assertThat(replica.deadlineItems()).as("items for one key with a deadline").isLessThan(5_000);
  }

  @Test
  void manyKeys_eachRewritten_queueStaysAboutTheLiveCount() {
    for (int round = 0; round < 20; round++) {
      for (int k = 0; k < 1_000; k++) {
        put("k" + k, "v" + round, DEADLINE + round);
      }
    }
    assertThat(replica.deadlineItems()).isLessThan(2 * 1_000 + 5_000);
    assertThat(replica.pollExpired(DEADLINE + 18)).isEmpty();
    assertThat(replica.pollExpired(DEADLINE + 19)).hasSize(1_000);
  }
}
