package io.cachet.benchmarks;

import static io.cachet.benchmarks.ReplicationFixtures.load1;
import static io.cachet.benchmarks.ReplicationFixtures.progress;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.benchmarks.ReplicationFixtures.Kafka;
import io.cachet.codec.Codecs;
import io.cachet.replicated.ReplicatedCache;
import io.cachet.replicated.ReplicatedCacheProvider;
import io.cachet.replicated.ReplicationOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * How much heap does a replicated node need per entry? The retained heap of a Cachet
 * {@code replicated-kafka} replica holding {@code keys} entries of 16-character {@code String} keys
 * and 100-byte {@code byte[]} values, against a plain {@code HashMap<String, byte[]>} holding the
 * same data, measured in the same run.
 *
 * <p>Target: the replica at most 1.3x the {@code HashMap}'s bytes per entry.
 *
 * <h2>Method</h2>
 *
 * The topic is written once through a Cachet node ({@code keys} distinct keys, one update each).
 * Then, for each implementation, the heap in use after a full collection (System.gc until it stops
 * shrinking) is taken before and while it holds the data:
 *
 * <ul>
 *   <li>{@code CACHET}: a node of a cache with the {@code byte[]} value codec replays the topic until
 *       {@code isReady()}; it holds the replica plus its Kafka clients (idle after the replay). The
 *       node is closed afterwards and the heap measured again, so the figure is what closing frees.
 *   <li>{@code HASH_MAP}: a plain consumer reads the topic into a {@code HashMap<String, byte[]>}
 *       (keys decoded from UTF-8, values as the consumer returns them); then the map is dropped.
 * </ul>
 *
 * <h2>Running</h2>
 *
 * <pre>
 * java -Xms3g -Xmx3g -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.ReplicaMemoryBenchmark keys=1000000
 * </pre>
 *
 * Arguments ({@code name=value}, defaults in brackets): {@code keys} [1000000], {@code bootstrap}
 * [empty: start a broker]. About a minute; most of it writing the topic.
 */
public final class ReplicaMemoryBenchmark {

  private static final String USAGE = "ReplicaMemoryBenchmark [keys=1000000] [bootstrap=host:port]";

  private ReplicaMemoryBenchmark() {}

  /** The heap a holder of the data retains: in use while it holds it, minus in use once it is gone. */
  record Footprint(long holding, long released, long entries) {

    double bytesPerEntry() {
      return (holding - released) / (double) entries;
    }
  }

  /** Replays the topic into a node and returns the heap held then; the caller measures after the node is gone. */
  static long[] cachetHolding(String bootstrap, String topic) {
    CacheManager manager = CacheManager.create();
    long holding;
    long entries;
    try {
      Cache<String, byte[]> cache = manager.create(CacheConfig.builder("memory")
          .valueCodec(Codecs.bytes())
          .backend(ReplicatedCacheProvider.NAME)
          .maximumSize(100_000_000L)
          .backendOptions(ReplicationOptions.builder().bootstrapServers(bootstrap).topic(topic).nodeId("memory")
              .startupWait(Duration.ZERO).build())
          .build());
      ReplicatedCache<?, ?> replicated = cache.unwrap(ReplicatedCache.class);
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
      while (!replicated.isReady()) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("not ready after 10 minutes: " + replicated.status());
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      entries = cache.estimatedSize();
      holding = ReplicationFixtures.usedHeapAfterGc();
    } finally {
      manager.close();
    }
    return new long[] {holding, entries};
  }

  static Footprint cachet(String bootstrap, String topic) {
    long[] holding = cachetHolding(bootstrap, topic);
    return new Footprint(holding[0], ReplicationFixtures.usedHeapAfterGc(), holding[1]);
  }

  /** Reads the topic into a map and returns the heap held then, and its size; the caller measures after. */
  static long[] hashMapHolding(String bootstrap, String topic) {
    HashMap<String, byte[]> map = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(ReplicationFixtures.plainConsumer(bootstrap, "memory-plain"))) {
      ReplicationFixtures.readToEnd(consumer, topic,
          record -> map.put(new String(record.key(), StandardCharsets.UTF_8), record.value()));
    }
    long holding = ReplicationFixtures.usedHeapAfterGc();
    return new long[] {holding, map.size()};
  }

  static Footprint hashMap(String bootstrap, String topic) {
    long[] holding = hashMapHolding(bootstrap, topic);
    return new Footprint(holding[0], ReplicationFixtures.usedHeapAfterGc(), holding[1]);
  }

  /**
   * Runs the benchmark and prints its table.
   *
   * @param args {@code name=value} pairs; see the class Javadoc
   */
  public static void main(String[] args) {
    Map<String, String> a = ReplicationFixtures.arguments(args, Map.of("keys", "1000000", "bootstrap", ""), USAGE);
    int keys = Integer.parseInt(a.get("keys"));
    String topic = ReplicationFixtures.topicName("memory");
    String loadBefore = load1();
    Footprint plain;
    Footprint replica;
    String broker;
    try (Kafka kafka = Kafka.start(ReplicationFixtures.bootstrapArgument(a))) {
      broker = kafka.describe();
      progress("writing %,d keys x 1 update to %s", keys, topic);
      ReplicationFixtures.load(kafka.bootstrapServers(), topic, keys, 1, 1, ReplicationFixtures::key16);
      ReplicationFixtures.settle();
      progress("HashMap<String, byte[]> (load %s)", load1());
      plain = hashMap(kafka.bootstrapServers(), topic);
      progress("Cachet replica (load %s)", load1());
      replica = cachet(kafka.bootstrapServers(), topic);
    }
    if (plain.entries() != keys || replica.entries() != keys) {
      throw new IllegalStateException("expected " + keys + " entries; HashMap " + plain.entries() + ", replica "
          + replica.entries());
    }
    double ratio = replica.bytesPerEntry() / plain.bytesPerEntry();
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%nMachine: %s; load average (1 min) %s before, %s after.%n",
        ReplicationFixtures.machine(), loadBefore, load1()));
    out.append("Broker: ").append(broker).append(".\n");
    out.append(String.format(Locale.ROOT, "Heap: -Xmx %d MiB; GC: %s.%n", Runtime.getRuntime().maxMemory() >> 20,
        ReplicationFixtures.collectors()));
    out.append(String.format(Locale.ROOT,
        "Data: %,d entries, 16-character String keys, %d-byte byte[] values.%n%n", keys,
        ReplicationFixtures.VALUE_LENGTH));
    out.append("| holder | heap holding MiB | heap after release MiB | retained bytes/entry | / HashMap |\n");
    out.append("| --- | ---: | ---: | ---: | ---: |\n");
    out.append(row("HashMap<String, byte[]>", plain, 1.0));
    out.append(row("Cachet replica (node)", replica, ratio));
    out.append(String.format(Locale.ROOT, "%nReplica / HashMap: **%.2f** (target <= 1.30: %s).%n", ratio,
        ratio <= 1.3 ? "met" : "missed"));
    System.out.print(out);
    System.out.flush();
  }

  private static String row(String holder, Footprint f, double ratio) {
    return String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.2f |%n", holder, f.holding() / 1048576.0,
        f.released() / 1048576.0, f.bytesPerEntry(), ratio);
  }
}
