package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.codec.Codecs;
import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * A replay sizes the replica's map from the log's offset range, which counts every write since the
 * log began, not the keys compaction kept: a small cache on a long-lived topic must not keep a
 * table for millions of keys.
 */
final class ReplicaPresizeTest {

  @Test
  void anOffsetRangeOfBillions_sizesTheMapForAtMostAMillionKeys() throws Exception {
    Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
    long before = allocatedByThisThread();

    replica.presize(3_000_000_000L);
    replica.restore("k", Entry.of("v", 0, 0, 0, 0, true, "node", 0)); // the table is allocated on first use

    long allocated = allocatedByThisThread() - before;
    assertThat(replica.size()).isEqualTo(1);
    // 2 M slots of 4 bytes (compressed references) or 8: 8 or 16 MiB; 16 M keys would take 128 MiB or more.
    assertThat(allocated).as("bytes allocated").isLessThanOrEqualTo(17L << 20);
  }

  /** Bytes the calling thread has allocated so far (HotSpot's threading MXBean). */
  private static long allocatedByThisThread() throws Exception {
    return (Long) ManagementFactory.getPlatformMBeanServer()
        .getAttribute(new ObjectName("java.lang:type=Threading"), "CurrentThreadAllocatedBytes");
  }
}
