package io.cachet.benchmarks;

import static io.cachet.benchmarks.ReplicationFixtures.load1;
import static io.cachet.benchmarks.ReplicationFixtures.progress;

import io.cachet.benchmarks.ReplicationFixtures.Kafka;
import io.cachet.benchmarks.ReplicationFixtures.Node;
import io.cachet.replicated.ReplicatedCache;
import io.cachet.replicated.ReplicationStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * What does a snapshot save a restarting node? Time to ready of a Cachet {@code replicated-kafka}
 * node that restarts from its snapshot file, against one that replays the whole topic, in the same
 * run on the same topic.
 *
 * <h2>Workload</h2>
 *
 * The topic of {@link ReplayBenchmark}: by default 100,000 keys x 10 updates = 1,000,000 records,
 * {@value ReplicationFixtures#VALUE_LENGTH}-byte values, one partition, written through Cachet.
 * Every node has {@code snapshotPath} set and {@code startupWait(Duration.ZERO)}; the time runs from
 * the {@code create} call to {@code isReady()} (polled every millisecond).
 *
 * <ul>
 *   <li>{@code FULL_REPLAY}: the snapshot file is deleted first, so the node replays the topic
 *       from offset 0. Closing it writes the snapshot (100,000 entries, positions at the end of the
 *       topic); that close is timed too.
 *   <li>{@code SNAPSHOT}: a node starts on the file the previous node wrote on close: it reads the
 *       file in {@code create} (the "create returned" column), then replays only what follows the
 *       snapshot's positions (here: nothing) and is ready once the end offsets are known.
 * </ul>
 *
 * One unmeasured warm-up of each, then {@code rounds} rounds alternating which goes first.
 *
 * <h2>Running</h2>
 *
 * <pre>
 * java -Xms2g -Xmx2g -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.SnapshotRestartBenchmark rounds=3
 * </pre>
 *
 * Arguments ({@code name=value}, defaults in brackets): {@code keys} [100000], {@code updates}
 * [10], {@code rounds} [3], {@code bootstrap} [empty: start a broker]. About 1.5 minutes with the
 * defaults. Or run {@code benchmarks/scripts/replication-bench.sh}.
 */
public final class SnapshotRestartBenchmark {

  private static final String USAGE =
      "SnapshotRestartBenchmark [keys=100000] [updates=10] [rounds=3] [bootstrap=host:port]";

  private SnapshotRestartBenchmark() {}

  /** One timed start: create returned, ready, records replayed, and the close that wrote the snapshot. */
  record Start(long createNanos, long readyNanos, long cpuNanos, long replayed, long entries, long closeNanos,
      long snapshotBytes) {}

  /** Starts a node with {@code snapshot}, waits until ready, closes it (writing the snapshot). */
  static Start start(String bootstrap, String topic, String nodeId, Path snapshot) {
    long cpu = ReplicationFixtures.processCpuNanos();
    long started = System.nanoTime();
    Node node = ReplicationFixtures.node(bootstrap, topic, nodeId, snapshot, Duration.ZERO);
    long created = System.nanoTime();
    long ready;
    ReplicationStatus status;
    try {
      ReplicatedCache<String, String> replicated = node.replicated();
      long deadline = started + TimeUnit.MINUTES.toNanos(10);
      while (!replicated.isReady()) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("node " + nodeId + " not ready after 10 minutes: " + replicated.status());
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      ready = System.nanoTime();
      cpu = ReplicationFixtures.processCpuNanos() - cpu;
      status = replicated.status();
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    long closing = System.nanoTime();
    node.close();
    long closed = System.nanoTime();
    return new Start(created - started, ready - started, cpu, status.replayedRecords(), status.entries(), closed - closing,
        size(snapshot));
  }

  private static long size(Path path) {
    try {
      return Files.exists(path) ? Files.size(path) : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * Runs the benchmark and prints its table.
   *
   * @param args {@code name=value} pairs; see the class Javadoc
   * @throws IOException when the snapshot directory cannot be created or deleted
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> a = ReplicationFixtures.arguments(args,
        Map.of("keys", "100000", "updates", "10", "rounds", "3", "bootstrap", ""), USAGE);
    int keys = Integer.parseInt(a.get("keys"));
    int updates = Integer.parseInt(a.get("updates"));
    int rounds = Integer.parseInt(a.get("rounds"));
    String topic = ReplicationFixtures.topicName("snapshot");
    Path directory = Files.createTempDirectory("cachet-snapshot-bench");
    Path snapshot = directory.resolve("bench.snapshot");
    String loadBefore = load1();
    List<String> rows = new ArrayList<>();
    double[] full = new double[rounds];
    double[] fromSnapshot = new double[rounds];
    double[] fullCpu = new double[rounds];
    double[] snapshotCpu = new double[rounds];
    String broker;
    long records;
    try (Kafka kafka = Kafka.start(ReplicationFixtures.bootstrapArgument(a))) {
      broker = kafka.describe();
      String bootstrap = kafka.bootstrapServers();
      progress("writing %,d keys x %d updates to %s", keys, updates, topic);
      records = ReplicationFixtures.load(bootstrap, topic, "key-", keys, updates);
      ReplicationFixtures.settle();

      progress("warm-up (load %s)", load1());
      Files.deleteIfExists(snapshot);
      rows.add(row("warm-up", "full replay", check(start(bootstrap, topic, "warm-full", snapshot), records, keys),
          load1()));
      ReplicationFixtures.settle();
      rows.add(row("warm-up", "snapshot", check(start(bootstrap, topic, "warm-snapshot", snapshot), 0, keys), load1()));
      for (int r = 0; r < rounds; r++) {
        boolean fullFirst = r % 2 == 0;
        progress("round %d/%d, %s first (load %s)", r + 1, rounds, fullFirst ? "full replay" : "snapshot", load1());
        for (int i = 0; i < 2; i++) {
          boolean isFull = (i == 0) == fullFirst;
          ReplicationFixtures.settle();
          String loadAt = load1();
          Start s;
          if (isFull) {
            Files.deleteIfExists(snapshot);
            s = check(start(bootstrap, topic, "full-" + r, snapshot), records, keys);
            full[r] = s.readyNanos() / 1e9;
            fullCpu[r] = s.cpuNanos() / 1e9;
          } else {
            s = check(start(bootstrap, topic, "snapshot-" + r, snapshot), 0, keys);
            fromSnapshot[r] = s.readyNanos() / 1e9;
            snapshotCpu[r] = s.cpuNanos() / 1e9;
          }
          rows.add(row(Integer.toString(r + 1), isFull ? "full replay" : "snapshot", s, loadAt));
        }
      }
    } finally {
      deleteRecursively(directory);
    }
    String loadAfter = load1();
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%nMachine: %s; load average (1 min) %s before, %s after.%n",
        ReplicationFixtures.machine(), loadBefore, loadAfter));
    out.append("Broker: ").append(broker).append(".\n");
    out.append(String.format(Locale.ROOT,
        "Topic: %,d records (%,d keys x %d updates, %d-byte values, 1 partition), written through Cachet.%n%n",
        records, keys, updates, ReplicationFixtures.VALUE_LENGTH));
    out.append("| round | start | load | create returned s | ready s | JVM CPU s to ready | records replayed | entries"
        + " | close (writes snapshot) s | snapshot MiB |\n");
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    rows.forEach(out::append);
    double f = ReplicationFixtures.median(full);
    double s = ReplicationFixtures.median(fromSnapshot);
    out.append(String.format(Locale.ROOT,
        "%nMedian time to ready over %d rounds: full replay %.2f s, from snapshot %.2f s: **%.1fx** faster"
            + " (target >= 5x: %s); load average (1 min) %s before, %s after; %d processors load the snapshot's"
            + " sections.%n",
        rounds, f, s, s > 0 ? f / s : 0, s > 0 && f / s >= 5 ? "met" : "missed", loadBefore, loadAfter,
        Runtime.getRuntime().availableProcessors()));
    double fc = ReplicationFixtures.median(fullCpu);
    double sc = ReplicationFixtures.median(snapshotCpu);
    out.append(String.format(Locale.ROOT,
        "CPU seconds of this JVM (all its threads, the collector's included) from create to ready, median: full"
            + " replay %.2f, from snapshot %.2f: %.1fx less (less sensitive to other load than the times).%n",
        fc, sc, sc > 0 ? fc / sc : 0));
    System.out.print(out);
    System.out.flush();
  }

  private static Start check(Start s, long replayed, int keys) {
    if (s.replayed() != replayed || s.entries() != keys) {
      throw new IllegalStateException("expected " + replayed + " records replayed into " + keys + " entries; got "
          + s.replayed() + " into " + s.entries());
    }
    return s;
  }

  private static String row(String round, String what, Start s, String load) {
    return String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %.3f | %.2f | %,d | %,d | %.3f | %.1f |%n", round, what,
        load, s.createNanos() / 1e9, s.readyNanos() / 1e9, s.cpuNanos() / 1e9, s.replayed(), s.entries(), s.closeNanos() / 1e9,
        s.snapshotBytes() / (double) (1 << 20));
  }

  private static void deleteRecursively(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      progress("could not delete %s: %s", root, e);
    }
  }
}
