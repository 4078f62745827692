package io.cachet.benchmarks;

import static io.cachet.benchmarks.ReplicationFixtures.load1;
import static io.cachet.benchmarks.ReplicationFixtures.ms;
import static io.cachet.benchmarks.ReplicationFixtures.percentile;
import static io.cachet.benchmarks.ReplicationFixtures.progress;
import static io.cachet.benchmarks.ReplicationFixtures.sorted;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.Cache;
import io.cachet.benchmarks.ReplicationFixtures.Kafka;
import io.cachet.benchmarks.ReplicationFixtures.Node;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jspecify.annotations.Nullable;

/**
 * How long after a write on one node do other nodes see it? Propagation lag of the {@code
 * replicated-kafka} backend against a raw Kafka producer and consumer in the same run.
 *
 * <p>Not a JMH benchmark: it times individual writes at a fixed, moderate rate and prints
 * percentiles as Markdown tables.
 *
 * <h2>Implementations</h2>
 *
 * <ul>
 *   <li>{@code CACHET}: two Cachet nodes (two managers, node ids {@code node-a} and {@code node-b})
 *       on one topic of one partition, each with a user's defaults. The writer calls {@code
 *       put(key, value)} on A, which returns once A's own replica has applied the record. A
 *       reader thread polls {@code get(key)} on B every {@code probeMicros} (a parked wait, not a
 *       spin, which on 2 CPUs would take a core from the broker and the appliers) and stamps the
 *       first read that returns the value.
 *   <li>{@code CACHET_LINGER_0}: the same with {@code kafkaProperty("linger.ms", "0")}, a setting
 *       users may override: Cachet against {@code KAFKA_LINGER_0}.
 *   <li>{@code KAFKA}: a raw {@code KafkaProducer} ({@code acks=all}, idempotent, {@code
 *       linger.ms=1} like Cachet's own producer) sends each record and waits on {@code
 *       send().get()}; a raw {@code KafkaConsumer} ({@code assign}, {@code poll}, Kafka's default
 *       settings) on another thread stamps each record as {@code poll} returns it. The baseline.
 *   <li>{@code KAFKA_LINGER_0}: the same with {@code linger.ms=0}: what Cachet's {@code
 *       linger.ms=1} costs a lone write, and the baseline of {@code CACHET_LINGER_0}.
 * </ul>
 *
 * Keys are distinct {@code String}s, values {@value ReplicationFixtures#VALUE_LENGTH}-byte ASCII
 * strings; each implementation has a topic of its own. All clients run in this JVM (so one {@code
 * System.nanoTime()} clock stamps both ends); the broker is a {@code KafkaBrokerProcess}, a JVM of
 * its own, on 127.0.0.1.
 *
 * <h2>What is reported</h2>
 *
 * Per implementation, pooled over the rounds: the write's latency (call to return on A: for
 * Cachet, acknowledged by the broker and applied by A's own replica; for raw Kafka, the
 * acknowledgement), <b>end to end</b> (call on A to visible on B; the ratio to {@code KAFKA} is
 * taken here, as it is the same interval for both) and <b>after return</b> (return on A to
 * visible on B, the lag a reader on another node sees after the writer moved on; negative when B
 * applied the record before A did). The Cachet visibility stamps are late by up to one probe
 * interval; the measured mean interval is printed.
 *
 * <h2>Running</h2>
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.ReplicationLagBenchmark \
 *     writes=20000 rate=250 rounds=2
 * </pre>
 *
 * Arguments ({@code name=value}, defaults in brackets): {@code writes} [20000] measured writes per
 * implementation, split over {@code rounds} [2] that alternate the order of the implementations;
 * {@code rate} [250] writes per second, slow enough that
 * writes rarely queue behind each other (a write that falls behind the schedule starts at once);
 * {@code warmup} [2000] unmeasured writes per implementation first; {@code probeMicros} [20];
 * {@code impls} [CACHET,CACHET_LINGER_0,KAFKA,KAFKA_LINGER_0]; {@code bootstrap} [empty: start a broker] to run
 * against a running broker instead. About 6 minutes with the defaults. Or run {@code
 * benchmarks/scripts/replication-bench.sh}.
 */
public final class ReplicationLagBenchmark {

  /** The implementations compared. */
  enum Impl {
    CACHET,
    CACHET_LINGER_0,
    KAFKA,
    KAFKA_LINGER_0;

    /** The raw Kafka implementation with the same {@code linger.ms}: the like-for-like baseline. */
    Impl baseline() {
      return this == CACHET_LINGER_0 || this == KAFKA_LINGER_0 ? KAFKA_LINGER_0 : KAFKA;
    }
  }

  private static final String USAGE =
      "ReplicationLagBenchmark [writes=20000] [rate=250] [rounds=2] [warmup=2000] [probeMicros=20]"
          + " [impls=CACHET,CACHET_LINGER_0,KAFKA,KAFKA_LINGER_0] [bootstrap=host:port]";

  private ReplicationLagBenchmark() {}

  /** One batch of timed writes with distinct keys; the reader side fills {@link #visible}. */
  static final class Batch {
    final String prefix;
    final String[] keys;
    final long[] called;
    final long[] returned;
    final long[] visible;
    final AtomicInteger seen = new AtomicInteger();

    Batch(String prefix, int n) {
      this.prefix = prefix;
      this.keys = new String[n];
      for (int i = 0; i < n; i++) {
        keys[i] = prefix + i;
      }
      this.called = new long[n];
      this.returned = new long[n];
      this.visible = new long[n];
    }

    int size() {
      return keys.length;
    }
  }

  /** Writes on one side and watches the other. */
  interface Pipe extends AutoCloseable {
    /** Starts watching the other side for the keys of {@code batch}. */
    void watch(Batch batch);

    /** Writes {@code key}, returning when the writer considers it written. */
    void write(String key, String value) throws Exception;

    /** Waits until every key of the batch was seen; returns false on timeout. */
    boolean awaitSeen(Batch batch, Duration timeout) throws InterruptedException;

    /** Mean nanoseconds between two visibility probes, or 0 where visibility is pushed, not polled. */
    default double meanProbeNanos() {
      return 0;
    }

    @Override
    void close();
  }

  /** Two Cachet nodes; a reader thread polls B. */
  static final class CachetPipe implements Pipe {
    private final Node a;
    private final Node b;
    private final long probeNanos;
    private @Nullable Thread reader;
    private long probes;
    private long probeTime;

    CachetPipe(String bootstrap, String topic, long probeNanos, Map<String, String> kafkaProperties) {
      this.a = ReplicationFixtures.node(bootstrap, topic, "node-a", null, Duration.ofSeconds(30), kafkaProperties);
      Node nodeB;
      try {
        nodeB = ReplicationFixtures.node(bootstrap, topic, "node-b", null, Duration.ofSeconds(30), kafkaProperties);
      } catch (RuntimeException e) {
        a.close();
        throw e;
      }
      this.b = nodeB;
      this.probeNanos = probeNanos;
      if (!a.replicated().isReady() || !b.replicated().isReady()) {
        close();
        throw new IllegalStateException("the Cachet nodes are not ready");
      }
    }

    @Override
    public void watch(Batch batch) {
      Cache<String, String> cacheB = b.cache();
      Thread t = new Thread(() -> {
        long started = System.nanoTime();
        long count = 0;
        for (int i = 0; i < batch.size() && !Thread.currentThread().isInterrupted(); i++) {
          String key = batch.keys[i];
          while (cacheB.get(key) == null) {
            count++;
            LockSupport.parkNanos(probeNanos);
            if (Thread.currentThread().isInterrupted()) {
              return;
            }
          }
          count++;
          batch.visible[i] = System.nanoTime();
          batch.seen.incrementAndGet();
        }
        synchronized (this) {
          probes += count;
          probeTime += System.nanoTime() - started;
        }
      }, "lag-reader-b");
      t.setDaemon(true);
      reader = t;
      t.start();
    }

    @Override
    public void write(String key, String value) {
      a.cache().put(key, value);
    }

    @Override
    public boolean awaitSeen(Batch batch, Duration timeout) throws InterruptedException {
      Thread t = reader;
      if (t == null) {
        return false;
      }
      t.join(timeout.toMillis());
      if (t.isAlive()) {
        t.interrupt();
        t.join();
        return false;
      }
      return batch.seen.get() == batch.size();
    }

    @Override
    public synchronized double meanProbeNanos() {
      return probes == 0 ? 0 : (double) probeTime / probes;
    }

    @Override
    public void close() {
      Thread t = reader;
      if (t != null) {
        t.interrupt();
      }
      b.close();
      a.close();
    }
  }

  /** A raw producer, and a raw consumer thread that stamps records as {@code poll} returns them. */
  static final class KafkaPipe implements Pipe {
    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread poller;
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile @Nullable Batch current;

    KafkaPipe(String bootstrap, String topic, int lingerMs) {
      this.topic = topic;
      ReplicationFixtures.createTopic(bootstrap, topic);
      Map<String, Object> p = new HashMap<>();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ProducerConfig.CLIENT_ID_CONFIG, "lag-raw-producer");
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
      p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(lingerMs));
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      this.producer = new KafkaProducer<>(p);
      this.consumer = new KafkaConsumer<>(ReplicationFixtures.plainConsumer(bootstrap, "lag-raw-consumer"));
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToEnd(List.of(tp));
      consumer.position(tp);
      this.poller = new Thread(this::poll, "lag-raw-consumer");
      poller.setDaemon(true);
      poller.start();
    }

    private void poll() {
      try {
        while (!stop.get()) {
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
            long now = System.nanoTime();
            Batch batch = current;
            if (batch == null) {
              continue;
            }
            String key = new String(record.key(), UTF_8);
            if (key.startsWith(batch.prefix)) {
              int i = Integer.parseInt(key, batch.prefix.length(), key.length(), 10);
              if (batch.visible[i] == 0) {
                batch.visible[i] = now;
                batch.seen.incrementAndGet();
              }
            }
          }
        }
      } catch (org.apache.kafka.common.errors.WakeupException e) {
        // closing
      } finally {
        consumer.close();
      }
    }

    @Override
    public void watch(Batch batch) {
      current = batch;
    }

    @Override
    public void write(String key, String value) throws InterruptedException, ExecutionException {
      producer.send(new ProducerRecord<>(topic, 0, key.getBytes(UTF_8), value.getBytes(UTF_8))).get();
    }

    @Override
    public boolean awaitSeen(Batch batch, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (batch.seen.get() < batch.size() && System.nanoTime() - deadline < 0) {
        ReplicationFixtures.pause(Duration.ofMillis(5));
      }
      return batch.seen.get() == batch.size();
    }

    @Override
    public void close() {
      stop.set(true);
      consumer.wakeup();
      try {
        poller.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      producer.close(Duration.ofSeconds(5));
    }
  }

  /** Runs one batch at {@code rate} writes per second. */
  static void run(Pipe pipe, Batch batch, double rate) throws Exception {
    // Visibility stamps are written by the reader thread; the writer reads them only after awaitSeen.
    pipe.watch(batch);
    long interval = (long) (1e9 / rate);
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
    for (int i = 0; i < batch.size(); i++) {
      ReplicationFixtures.parkUntil(start + i * interval);
      String key = batch.keys[i];
      String value = ReplicationFixtures.value(key, 0);
      long called = System.nanoTime();
      pipe.write(key, value);
      batch.returned[i] = System.nanoTime();
      batch.called[i] = called;
    }
    if (!pipe.awaitSeen(batch, Duration.ofSeconds(60))) {
      throw new IllegalStateException("only " + batch.seen.get() + " of " + batch.size() + " writes of "
          + batch.prefix + " became visible within 60 s");
    }
  }

  private static Pipe open(Impl impl, String bootstrap, String run, long probeNanos) {
    return switch (impl) {
      case CACHET -> new CachetPipe(bootstrap, "lag-cachet-" + run, probeNanos, Map.of());
      case CACHET_LINGER_0 -> new CachetPipe(bootstrap, "lag-cachet0-" + run, probeNanos, Map.of("linger.ms", "0"));
      case KAFKA -> new KafkaPipe(bootstrap, "lag-kafka-" + run, 1);
      case KAFKA_LINGER_0 -> new KafkaPipe(bootstrap, "lag-kafka0-" + run, 0);
    };
  }

  /** Pooled results of one implementation. */
  record Result(long[] write, long[] endToEnd, long[] afterReturn, long behind, double probeNanos, double rate) {}

  /**
   * Runs the benchmark and prints its tables.
   *
   * @param args {@code name=value} pairs; see the class Javadoc
   * @throws Exception when a run fails
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> a = ReplicationFixtures.arguments(args, Map.of(
        "writes", "20000", "rate", "250", "rounds", "2", "warmup", "2000", "probeMicros", "20",
        "impls", "CACHET,CACHET_LINGER_0,KAFKA,KAFKA_LINGER_0", "bootstrap", ""), USAGE);
    int writes = Integer.parseInt(a.get("writes"));
    double rate = Double.parseDouble(a.get("rate"));
    int rounds = Integer.parseInt(a.get("rounds"));
    int warmup = Integer.parseInt(a.get("warmup"));
    long probeNanos = TimeUnit.MICROSECONDS.toNanos(Long.parseLong(a.get("probeMicros")));
    List<Impl> impls = new ArrayList<>();
    for (String s : a.get("impls").split(",")) {
      impls.add(Impl.valueOf(s.trim()));
    }
    int perRound = writes / rounds;
    String loadBefore = load1();
    String run = Long.toHexString(System.currentTimeMillis());

    Map<Impl, List<Batch>> batches = new EnumMap<>(Impl.class);
    Map<Impl, Double> probe = new EnumMap<>(Impl.class);
    String broker;
    try (Kafka kafka = Kafka.start(ReplicationFixtures.bootstrapArgument(a))) {
      broker = kafka.describe();
      Map<Impl, Pipe> pipes = new EnumMap<>(Impl.class);
      try {
        for (Impl impl : impls) {
          pipes.put(impl, open(impl, kafka.bootstrapServers(), run, probeNanos));
          batches.put(impl, new ArrayList<>());
        }
        for (Impl impl : impls) {
          progress("warm-up %s: %,d writes", impl, warmup);
          run(pipes.get(impl), new Batch("w-" + impl + "-", warmup), rate);
        }
        for (int r = 0; r < rounds; r++) {
          List<Impl> order = new ArrayList<>(impls);
          if (r % 2 == 1) {
            Collections.reverse(order);
          }
          for (Impl impl : order) {
            progress("round %d/%d %s: %,d writes at %.0f/s (load %s)", r + 1, rounds, impl, perRound, rate, load1());
            Batch batch = new Batch("r" + r + "-" + impl + "-", perRound);
            run(pipes.get(impl), batch, rate);
            batches.get(impl).add(batch);
          }
        }
        for (Impl impl : impls) {
          probe.put(impl, pipes.get(impl).meanProbeNanos());
        }
      } finally {
        for (Pipe pipe : pipes.values()) {
          pipe.close();
        }
      }
    }
    String loadAfter = load1();

    Map<Impl, Result> results = new EnumMap<>(Impl.class);
    for (Impl impl : impls) {
      List<Batch> list = batches.get(impl);
      int n = list.stream().mapToInt(Batch::size).sum();
      long[] write = new long[n];
      long[] endToEnd = new long[n];
      long[] afterReturn = new long[n];
      long behind = 0;
      long span = 0;
      int j = 0;
      for (Batch batch : list) {
        span += batch.returned[batch.size() - 1] - batch.called[0];
        for (int i = 0; i < batch.size(); i++, j++) {
          write[j] = batch.returned[i] - batch.called[i];
          endToEnd[j] = batch.visible[i] - batch.called[i];
          afterReturn[j] = batch.visible[i] - batch.returned[i];
          if (afterReturn[j] < 0) {
            behind++;
          }
        }
      }
      results.put(impl, new Result(sorted(write), sorted(endToEnd), sorted(afterReturn), behind, probe.get(impl),
          n / (span / 1e9)));
    }
    print(results, writes, rate, rounds, warmup, broker, loadBefore, loadAfter);
  }

  private static void print(Map<Impl, Result> results, int writes, double rate, int rounds, int warmup, String broker,
      String loadBefore, String loadAfter) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%nMachine: %s; load average (1 min) %s before, %s after.%n",
        ReplicationFixtures.machine(), loadBefore, loadAfter));
    out.append("Broker: ").append(broker).append(".\n");
    out.append(String.format(Locale.ROOT,
        "Settings: %,d measured writes per implementation at %.0f/s in %d alternating rounds, after %,d warm-up writes;"
            + " %d-byte values, distinct keys, 1 partition. Milliseconds.%n%n",
        writes, rate, rounds, warmup, ReplicationFixtures.VALUE_LENGTH));
    out.append("| impl | writes | writes/s | write p50 | write p99 | end to end p50 | p99 | p99.9 | after return p50 | p99 | p99.9 "
        + "| visible on B before A returned |\n");
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (Map.Entry<Impl, Result> e : results.entrySet()) {
      Result r = e.getValue();
      out.append(String.format(Locale.ROOT, "| %s | %,d | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %.1f%% |%n",
          e.getKey(), r.write().length, r.rate(), ms(percentile(r.write(), 0.5)), ms(percentile(r.write(), 0.99)),
          ms(percentile(r.endToEnd(), 0.5)), ms(percentile(r.endToEnd(), 0.99)), ms(percentile(r.endToEnd(), 0.999)),
          ms(percentile(r.afterReturn(), 0.5)), ms(percentile(r.afterReturn(), 0.99)),
          ms(percentile(r.afterReturn(), 0.999)), 100.0 * r.behind() / Math.max(1, r.write().length)));
    }
    out.append("\nRatios to raw Kafka with the same linger.ms (same run; lower is better):\n\n");
    out.append("| impl | baseline | write p50 | write p99 | end to end p50 | p99 | p99.9 |\n"
        + "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (Map.Entry<Impl, Result> e : results.entrySet()) {
      Result r = e.getValue();
      Result base = results.get(e.getKey().baseline());
      if (base != null) {
        out.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f | **%.2f** | **%.2f** | %.2f |%n", e.getKey(),
            e.getKey().baseline(),
            ratio(r.write(), base.write(), 0.5), ratio(r.write(), base.write(), 0.99),
            ratio(r.endToEnd(), base.endToEnd(), 0.5), ratio(r.endToEnd(), base.endToEnd(), 0.99),
            ratio(r.endToEnd(), base.endToEnd(), 0.999)));
      }
    }
    for (Impl impl : List.of(Impl.CACHET, Impl.CACHET_LINGER_0)) {
      Result r = results.get(impl);
      if (r != null) {
        out.append(String.format(Locale.ROOT,
            "%n%s visibility is polled on B: mean time between probes %.1f us (its stamps are late by up to that).",
            impl, r.probeNanos() / 1e3));
      }
    }
    out.append('\n');
    System.out.print(out);
    System.out.flush();
  }

  private static double ratio(long[] sorted, long[] base, double q) {
    long b = percentile(base, q);
    return b == 0 ? 0 : (double) percentile(sorted, q) / b;
  }
}
