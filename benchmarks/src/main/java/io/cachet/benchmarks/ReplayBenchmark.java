package io.cachet.benchmarks;

import static io.cachet.benchmarks.ReplicationFixtures.load1;
import static io.cachet.benchmarks.ReplicationFixtures.progress;

import io.cachet.benchmarks.ReplicationFixtures.Kafka;
import io.cachet.benchmarks.ReplicationFixtures.Node;
import io.cachet.replicated.ReplicatedCache;
import io.cachet.replicated.ReplicationStatus;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * How fast does a new node catch up? Time for a Cachet {@code replicated-kafka} node to become
 * ready on a topic of 1,000,000 records, against a plain {@code KafkaConsumer} reading the same
 * topic to its end in the same run.
 *
 * <p>Target (issue): Cachet's replay rate at least 0.7x the plain consumer's (records/s).
 *
 * <h2>Workload</h2>
 *
 * The topic is written once, through a Cachet node (unconditional puts, so every record is valid
 * and carries Cachet's metadata header): by default 100,000 distinct {@code String} keys x 10
 * updates each, update pass by update pass, {@value ReplicationFixtures#VALUE_LENGTH}-byte values,
 * one partition. Repeated updates, because that is what a cache's log holds: a topic created by
 * the backend keeps every record for {@code min.compaction.lag.ms} (1 hour by default), so a node
 * that starts within that window replays every update, not one record per key; it also exercises
 * the replica's overwrite path, and keeps the replica's heap (100,000 entries) small enough that
 * the comparison is about applying records rather than about the collector. {@code keys=1000000
 * updates=1} measures the other extreme, one record per key.
 *
 * <h2>Implementations</h2>
 *
 * <ul>
 *   <li>{@code CACHET}: {@code CacheManager.create().create(...)} of a cache with a fresh node id
 *       and {@code startupWait(Duration.ZERO)}, then {@code isReady()} polled every millisecond.
 *       The time runs from the {@code create} call (topic check, clients, end offsets) to ready;
 *       the time from the moment the replay target is known ({@code status().replayTarget() > 0})
 *       to ready is printed as well ("replay only").
 *   <li>{@code PLAIN_CONSUMER}: a new {@code KafkaConsumer<byte[], byte[]>} with the consumer
 *       settings a Cachet node uses (5,000 records per poll, 100 ms fetch wait; {@code plain=kafka}:
 *       Kafka's defaults instead): {@code assign} all partitions, {@code seekToBeginning}, {@code endOffsets}, then
 *       {@code poll} until every position reaches its end offset, adding offset, key and value
 *       lengths into a checksum. The time runs from the constructor to the end.
 * </ul>
 *
 * Both in this JVM, one after the other; the broker is a {@code KafkaBrokerProcess} (a JVM of its
 * own). One unmeasured warm-up run of each, then {@code rounds} rounds that alternate which goes
 * first; each round's ratio is taken within the round, and the median over rounds is reported.
 *
 * <h2>Running</h2>
 *
 * <pre>
 * java -Xms2g -Xmx2g -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.ReplayBenchmark rounds=3
 * </pre>
 *
 * Arguments ({@code name=value}, defaults in brackets): {@code keys} [100000], {@code updates}
 * [10], {@code partitions} [1] (of the topic written), {@code rounds} [3], {@code plain} [cachet: the
 * plain consumer gets a Cachet node's consumer settings; kafka: Kafka's defaults], {@code bootstrap}
 * [empty: start a broker]. About 2 minutes with the
 * defaults. Or run {@code benchmarks/scripts/replication-bench.sh}.
 */
public final class ReplayBenchmark {

  private static final String USAGE =
      "ReplayBenchmark [keys=100000] [updates=10] [partitions=1] [rounds=3] [plain=cachet|kafka] [bootstrap=host:port]";

  private ReplayBenchmark() {}

  /**
   * One timed catch-up, with the CPU time of the thread that read the records (the plain
   * consumer's caller, or Cachet's apply thread, which polls and applies), of this JVM and of the
   * broker JVM over the same interval.
   */
  record Run(long records, long nanos, long replayNanos, long entries, long readerCpu, long processCpu, long brokerCpu) {

    double recordsPerSecond() {
      return records / (nanos / 1e9);
    }
  }

  /** Starts a new Cachet node and waits until it is ready. */
  static Run cachet(Kafka kafka, String topic, String nodeId) {
    long brokerCpu = kafka.cpuNanos();
    long processCpu = ReplicationFixtures.processCpuNanos();
    long started = System.nanoTime();
    long targetKnown = 0;
    try (Node node = ReplicationFixtures.node(kafka.bootstrapServers(), topic, nodeId, null, Duration.ZERO)) {
      ReplicatedCache<String, String> replicated = node.replicated();
      long deadline = started + TimeUnit.MINUTES.toNanos(10);
      while (!replicated.isReady()) {
        if (targetKnown == 0 && replicated.status().replayTarget() > 0) {
          targetKnown = System.nanoTime();
        }
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("node " + nodeId + " not ready after 10 minutes: " + replicated.status());
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      long ready = System.nanoTime();
      long applierCpu = ReplicationFixtures.threadCpuNanos(ReplicationFixtures.APPLIER_THREAD);
      processCpu = ReplicationFixtures.processCpuNanos() - processCpu;
      brokerCpu = kafka.cpuNanos() - brokerCpu;
      ReplicationStatus status = replicated.status();
      return new Run(status.replayedRecords(), ready - started, targetKnown == 0 ? 0 : ready - targetKnown,
          status.entries(), applierCpu, processCpu, brokerCpu);
    }
  }

  /**
   * Reads {@code topic} from the beginning to its end offsets with a plain consumer, with the
   * consumer settings of a Cachet node ({@code likeCachet}) or Kafka's defaults.
   */
  static Run plain(Kafka kafka, String topic, String clientId, boolean likeCachet) {
    long brokerCpu = kafka.cpuNanos();
    long processCpu = ReplicationFixtures.processCpuNanos();
    long threadCpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    long started = System.nanoTime();
    long[] counts = new long[2]; // records, checksum
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(likeCachet ? ReplicationFixtures.plainConsumerLikeCachet(kafka.bootstrapServers(), clientId)
            : ReplicationFixtures.plainConsumer(kafka.bootstrapServers(), clientId))) {
      ReplicationFixtures.readToEnd(consumer, topic, record -> {
        counts[0]++;
        counts[1] += record.offset() + record.key().length + (record.value() == null ? 0 : record.value().length);
      });
      long done = System.nanoTime();
      threadCpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - threadCpu;
      processCpu = ReplicationFixtures.processCpuNanos() - processCpu;
      brokerCpu = kafka.cpuNanos() - brokerCpu;
      if (counts[1] == 42) {
        progress("(checksum %d)", counts[1]); // keeps the per-record work from being optimised away
      }
      return new Run(counts[0], done - started, 0, 0, threadCpu, processCpu, brokerCpu);
    }
  }

  /**
   * Runs the benchmark and prints its table.
   *
   * @param args {@code name=value} pairs; see the class Javadoc
   */
  public static void main(String[] args) {
    Map<String, String> a = ReplicationFixtures.arguments(args,
        Map.of("keys", "100000", "updates", "10", "partitions", "1", "rounds", "3", "plain", "cachet", "bootstrap", ""),
        USAGE);
    boolean likeCachet = switch (a.get("plain")) {
      case "cachet" -> true;
      case "kafka" -> false;
      default -> throw new IllegalArgumentException("plain must be cachet or kafka, was '" + a.get("plain") + "'");
    };
    int keys = Integer.parseInt(a.get("keys"));
    int partitions = Integer.parseInt(a.get("partitions"));
    int updates = Integer.parseInt(a.get("updates"));
    int rounds = Integer.parseInt(a.get("rounds"));
    String topic = ReplicationFixtures.topicName("replay");
    String loadBefore = load1();
    List<String> rows = new ArrayList<>();
    List<String> cpuRows = new ArrayList<>();
    double[] ratios = new double[rounds];
    double[] cachetRates = new double[rounds];
    double[] plainRates = new double[rounds];
    String broker;
    long records;
    try (Kafka kafka = Kafka.start(ReplicationFixtures.bootstrapArgument(a))) {
      broker = kafka.describe();
      String bootstrap = kafka.bootstrapServers();
      progress("writing %,d keys x %d updates to %s (%d partition(s))", keys, updates, topic, partitions);
      records = ReplicationFixtures.load(bootstrap, topic, keys, updates, partitions,
          n -> ReplicationFixtures.key("key-", n));
      ReplicationFixtures.settle();

      progress("warm-up (load %s)", load1());
      Run warmPlain = plain(kafka, topic, "plain-warmup", likeCachet);
      ReplicationFixtures.settle();
      Run warmCachet = cachet(kafka, topic, "replay-warmup");
      rows.add(row("warm-up", "plain, Cachet", warmPlain, warmCachet, load1()));
      cpuRows.add(cpuRow("warm-up", warmPlain, warmCachet));
      check(records, warmPlain, warmCachet, keys);
      for (int r = 0; r < rounds; r++) {
        boolean cachetFirst = r % 2 == 0;
        Run p;
        Run c;
        String loadAt = load1();
        progress("round %d/%d, %s first (load %s)", r + 1, rounds, cachetFirst ? "Cachet" : "plain", loadAt);
        ReplicationFixtures.settle();
        if (cachetFirst) {
          c = cachet(kafka, topic, "replay-" + r);
          ReplicationFixtures.settle();
          p = plain(kafka, topic, "plain-" + r, likeCachet);
        } else {
          p = plain(kafka, topic, "plain-" + r, likeCachet);
          ReplicationFixtures.settle();
          c = cachet(kafka, topic, "replay-" + r);
        }
        check(records, p, c, keys);
        ratios[r] = c.recordsPerSecond() / p.recordsPerSecond();
        cachetRates[r] = c.recordsPerSecond();
        plainRates[r] = p.recordsPerSecond();
        rows.add(row(Integer.toString(r + 1), cachetFirst ? "Cachet, plain" : "plain, Cachet", p, c, loadAt));
        cpuRows.add(cpuRow(Integer.toString(r + 1), p, c));
      }
    }
    String loadAfter = load1();
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%nMachine: %s; load average (1 min) %s before, %s after.%n",
        ReplicationFixtures.machine(), loadBefore, loadAfter));
    out.append("Broker: ").append(broker).append(".\n");
    out.append(String.format(Locale.ROOT,
        "Topic: %,d records (%,d keys x %d updates, %d-byte values, %d partition(s)), written through Cachet.%n"
            + "Plain consumer settings: %s.%n"
            + "Heap: -Xmx %d MiB; GC: %s.%n%n",
        records, keys, updates, ReplicationFixtures.VALUE_LENGTH, partitions,
        likeCachet ? "a Cachet node's (max.poll.records=5000, fetch.max.wait.ms=100, auto.offset.reset=none)"
            : "Kafka's defaults (max.poll.records=500, fetch.max.wait.ms=500)",
        Runtime.getRuntime().maxMemory() >> 20, ReplicationFixtures.collectors()));
    out.append("| round | order | load | plain consumer s | plain records/s | Cachet create to ready s | Cachet records/s"
        + " | Cachet replay only s | Cachet / plain |\n");
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    rows.forEach(out::append);
    out.append(String.format(Locale.ROOT,
        "%nMedian over %d rounds: plain %,.0f records/s, Cachet %,.0f records/s; median of per-round ratios **%.2f**"
            + " (target >= 0.70: %s), load average (1 min) %s before, %s after.%n",
        rounds, ReplicationFixtures.median(plainRates), ReplicationFixtures.median(cachetRates),
        ReplicationFixtures.median(ratios), ReplicationFixtures.median(ratios) >= 0.7 ? "met" : "missed", loadBefore,
        loadAfter));
    out.append("\nCPU seconds over the same intervals: the reading thread (plain: the caller of poll; Cachet: its apply"
        + " thread, which polls and applies), this whole JVM, and the broker JVM; and the reading thread's CPU per"
        + " record.\n\n");
    out.append("| round | plain thread | plain JVM | broker (plain) | Cachet apply thread | Cachet JVM | broker (Cachet)"
        + " | plain us/record | Cachet us/record |\n");
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    cpuRows.forEach(out::append);
    System.out.print(out);
    System.out.flush();
  }

  private static void check(long records, Run plain, Run cachet, int keys) {
    if (plain.records() != records || cachet.records() != records || cachet.entries() != keys) {
      throw new IllegalStateException("expected " + records + " records and " + keys + " entries; plain read "
          + plain.records() + ", Cachet replayed " + cachet.records() + " into " + cachet.entries() + " entries");
    }
  }

  private static String cpuRow(String round, Run p, Run c) {
    return String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |%n", round,
        p.readerCpu() / 1e9, p.processCpu() / 1e9, p.brokerCpu() / 1e9, c.readerCpu() / 1e9, c.processCpu() / 1e9,
        c.brokerCpu() / 1e9, p.readerCpu() / 1e3 / p.records(), c.readerCpu() / 1e3 / c.records());
  }

  private static String row(String round, String order, Run p, Run c, String load) {
    return String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %,.0f | %.2f | %,.0f | %.2f | %.2f |%n", round, order,
        load, p.nanos() / 1e9, p.recordsPerSecond(), c.nanos() / 1e9, c.recordsPerSecond(), c.replayNanos() / 1e9,
        c.recordsPerSecond() / p.recordsPerSecond());
  }
}
