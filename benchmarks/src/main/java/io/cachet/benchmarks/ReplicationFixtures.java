package io.cachet.benchmarks;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.replicated.ReplicatedCache;
import io.cachet.replicated.ReplicatedCacheProvider;
import io.cachet.replicated.ReplicationOptions;
import io.cachet.testkit.kafka.KafkaBrokerProcess;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jspecify.annotations.Nullable;

/**
 * What the replication benchmarks share: the Kafka broker (a {@link KafkaBrokerProcess}, a JVM of
 * its own), Cachet nodes of the {@code replicated-kafka} backend, loading a topic through Cachet,
 * the plain consumer's settings, arguments, percentiles and the machine line. Not measured.
 */
final class ReplicationFixtures {

  /** Length of every value, in characters (and UTF-8 bytes: all ASCII). */
  static final int VALUE_LENGTH = 100;

  /**
   * The broker JVM's options: those of Kafka's own {@code kafka-server-start.sh} (1 GiB heap, G1
   * with 20 ms pauses) instead of the test kit's C1-only fast-start defaults, so that the broker
   * serves at full speed and does not cap the rates being compared.
   */
  static final List<String> BROKER_JVM_OPTIONS =
      List.of(
          "-Xms1g",
          "-Xmx1g",
          "-XX:+UseG1GC",
          "-XX:MaxGCPauseMillis=20",
          "-XX:InitiatingHeapOccupancyPercent=35",
          "-XX:+ExplicitGCInvokesConcurrent",
          "-Djava.awt.headless=true");

  /** The cache name of the measured nodes; their apply thread is {@value #APPLIER_THREAD}. */
  static final String CACHE_NAME = "bench";
  /** The name the backend gives the apply thread of cache {@value #CACHE_NAME}. */
  static final String APPLIER_THREAD = "cachet-replica-" + CACHE_NAME;

  /** Asynchronous puts in flight while loading a topic. */
  private static final int LOAD_WINDOW = 8_192;

  private ReplicationFixtures() {}

  /** The broker a benchmark runs against: started here (and stopped on close) or given by address. */
  record Kafka(String bootstrapServers, @Nullable KafkaBrokerProcess process) implements AutoCloseable {

    /**
     * Starts a broker process with {@link #BROKER_JVM_OPTIONS}, whose class path is this JVM's
     * (benchmarks.jar holds kafka_2.13 and its dependencies), unless {@code bootstrap} names one.
     */
    static Kafka start(@Nullable String bootstrap) {
      if (bootstrap != null) {
        return new Kafka(bootstrap, null);
      }
      KafkaBrokerProcess broker =
          KafkaBrokerProcess.builder().jvmOptions(BROKER_JVM_OPTIONS).classpath(absoluteClasspath()).build();
      try {
        broker.start();
      } catch (RuntimeException e) {
        broker.close();
        throw e;
      }
      return new Kafka(broker.bootstrapServers(), broker);
    }

    /**
     * This JVM's class path with absolute entries: the broker JVM runs in a directory of its own,
     * where {@code -cp benchmarks/target/benchmarks.jar} would not resolve.
     */
    private static String absoluteClasspath() {
      StringJoiner joined = new StringJoiner(File.pathSeparator);
      for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
        if (!entry.isEmpty()) {
          joined.add(Path.of(entry).toAbsolutePath().toString());
        }
      }
      return joined.toString();
    }

    /** Describes the broker for the report. */
    String describe() {
      return process == null
          ? "the broker at " + bootstrapServers
          : "a KafkaBrokerProcess (its own JVM, pid " + process.pid() + ", " + String.join(" ", BROKER_JVM_OPTIONS)
              + ") on " + bootstrapServers;
    }

    /**
     * Returns the CPU time the broker JVM has used so far (user + system, from {@code
     * /proc/<pid>/stat}, in 10 ms ticks), or -1 when it is not ours or not on Linux.
     */
    long cpuNanos() {
      if (process == null) {
        return -1;
      }
      try {
        String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        // Fields after the command name, which is in parentheses and may hold spaces.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return ticks * 10_000_000L;
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }

    @Override
    public void close() {
      if (process != null) {
        process.close();
      }
    }
  }

  /** One Cachet node: a manager of its own holding one replicated cache. */
  record Node(CacheManager manager, Cache<String, String> cache) implements AutoCloseable {

    ReplicatedCache<String, String> replicated() {
      @SuppressWarnings("unchecked")
      ReplicatedCache<String, String> r = cache.unwrap(ReplicatedCache.class);
      return r;
    }

    @Override
    public void close() {
      manager.close();
    }
  }

  /**
   * Starts a Cachet node on {@code topic}: backend {@code replicated-kafka}, a user's defaults
   * otherwise (stats on, {@code String} keys and values); {@code maximumSize} is far above any
   * benchmark's key count, as replicas refuse new keys rather than evict.
   */
  static Node node(String bootstrap, String topic, String nodeId, @Nullable Path snapshot, Duration startupWait) {
    return node(CACHE_NAME, bootstrap, topic, nodeId, snapshot, startupWait, null, Map.of(), 1);
  }

  /** Starts a Cachet node as above, passing {@code kafkaProperties} to its Kafka clients. */
  static Node node(String bootstrap, String topic, String nodeId, @Nullable Path snapshot, Duration startupWait,
      Map<String, String> kafkaProperties) {
    return node(CACHE_NAME, bootstrap, topic, nodeId, snapshot, startupWait, null, kafkaProperties, 1);
  }

  /**
   * Starts a Cachet node as {@link #node(String, String, String, Path, Duration)} does, naming its
   * cache and, unless {@code null}, setting the executor its asynchronous operations complete on.
   */
  static Node node(String cacheName, String bootstrap, String topic, String nodeId, @Nullable Path snapshot,
      Duration startupWait, @Nullable Executor executor, Map<String, String> kafkaProperties, int partitions) {
    ReplicationOptions.Builder options = ReplicationOptions.builder().bootstrapServers(bootstrap).topic(topic)
        .nodeId(nodeId).startupWait(startupWait).partitions(partitions);
    kafkaProperties.forEach(options::kafkaProperty);
    if (snapshot != null) {
      options.snapshotPath(snapshot);
    }
    CacheManager manager = CacheManager.create();
    try {
      CacheConfig.Builder<String, String> config = CacheConfig.builder(cacheName)
          .backend(ReplicatedCacheProvider.NAME)
          .maximumSize(100_000_000L)
          .backendOptions(options.build());
      if (executor != null) {
        config.executor(executor);
      }
      Cache<String, String> cache = manager.create(config.build());
      return new Node(manager, cache);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * Reads every partition of {@code topic} from its beginning to the end offsets taken now, handing
   * each record to {@code onRecord}: what a plain consumer does to load a topic.
   */
  static void readToEnd(KafkaConsumer<byte[], byte[]> consumer, String topic,
      java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> onRecord) {
    List<TopicPartition> partitions = new java.util.ArrayList<>();
    for (PartitionInfo info : consumer.partitionsFor(topic)) {
      partitions.add(new TopicPartition(topic, info.partition()));
    }
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
    List<TopicPartition> open = new java.util.ArrayList<>(partitions);
    open.removeIf(tp -> consumer.position(tp) >= ends.get(tp));
    while (!open.isEmpty()) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
        onRecord.accept(record);
      }
      open.removeIf(tp -> consumer.position(tp) >= ends.get(tp));
    }
  }

  /** Returns the names of this JVM's garbage collectors. */
  static String collectors() {
    StringJoiner names = new StringJoiner(", ");
    ManagementFactory.getGarbageCollectorMXBeans().forEach(gc -> names.add(gc.getName()));
    return names.toString();
  }

  /** Returns the heap in use after a full collection, in bytes (System.gc until it stops shrinking). */
  static long usedHeapAfterGc() {
    Runtime runtime = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      System.gc();
      pause(Duration.ofMillis(100));
      long now = runtime.totalMemory() - runtime.freeMemory();
      if (now >= used - (1 << 16)) {
        return Math.min(now, used);
      }
      used = now;
    }
    return used;
  }

  /** Returns key {@code n}. */
  static String key(String prefix, int n) {
    return prefix + n;
  }

  /** Returns key {@code n} as 16 characters, {@code key-000000000042}. */
  static String key16(int n) {
    String digits = Integer.toString(n);
    return "key-" + "0".repeat(Math.max(0, 12 - digits.length())) + digits;
  }

  /** Returns the {@value #VALUE_LENGTH}-character value of {@code key} after its {@code update}th write. */
  static String value(String key, int update) {
    StringBuilder value = new StringBuilder(VALUE_LENGTH).append('u').append(update).append('-').append(key).append('-');
    while (value.length() < VALUE_LENGTH) {
      value.append((char) ('a' + value.length() % 26));
    }
    value.setLength(VALUE_LENGTH);
    return value.toString();
  }

  /**
   * Writes {@code keys x updates} records to {@code topic} through a Cachet node (unconditional
   * puts, so every record is valid and carries Cachet's header), update pass by update pass, so
   * the updates of each key are spread over the whole log. Returns the topic's end offset.
   */
  static long load(String bootstrap, String topic, String keyPrefix, int keys, int updates) {
    return load(bootstrap, topic, keys, updates, 1, n -> key(keyPrefix, n));
  }

  /**
   * Writes {@code keys x updates} records as {@link #load(String, String, String, int, int)} does, to a
   * topic of {@code partitions} partitions created for it, with the keys {@code keyOf} names.
   */
  static long load(String bootstrap, String topic, int keys, int updates, int partitions, IntFunction<String> keyOf) {
    long started = System.nanoTime();
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    Semaphore window = new Semaphore(LOAD_WINDOW);
    // A cache name of its own, so that a profile can tell the loader's apply thread from the measured
    // ones. A direct executor: with the default one, ForkJoinPool.commonPool(), on a machine where
    // the common pool has a parallelism of 1 (2 CPUs) CompletableFuture runs every *Async stage on a
    // new thread, and the backend completes async writes from its apply thread: a Thread.start per
    // record, which held loading to about 5,000 records/s here.
    try (Node loader = node("loader", bootstrap, topic, "loader", null, Duration.ofSeconds(60), Runnable::run, Map.of(),
        partitions)) {
      AsyncCache<String, String> async = loader.cache().async();
      for (int u = 0; u < updates; u++) {
        for (int k = 0; k < keys; k++) {
          window.acquireUninterruptibly();
          Throwable failed = failure.get();
          if (failed != null) {
            throw new IllegalStateException("loading topic " + topic + " failed", failed);
          }
          String key = keyOf.apply(k);
          async.put(key, value(key, u)).whenComplete((ignored, error) -> {
            if (error != null) {
              failure.compareAndSet(null, error);
            }
            window.release();
          });
        }
        progress("  loaded %,d of %,d records", (long) (u + 1) * keys, (long) updates * keys);
      }
      window.acquireUninterruptibly(LOAD_WINDOW);
      Throwable failed = failure.get();
      if (failed != null) {
        throw new IllegalStateException("loading topic " + topic + " failed", failed);
      }
    }
    long end = endOffset(bootstrap, topic);
    progress("  topic %s: %,d records in %.1f s", topic, end, (System.nanoTime() - started) / 1e9);
    if (end < (long) keys * updates) {
      throw new IllegalStateException("topic " + topic + " ends at " + end + ", expected " + (long) keys * updates);
    }
    return end;
  }

  /** Returns the sum of the end offsets of {@code topic}'s partitions. */
  static long endOffset(String bootstrap, String topic) {
    try (Admin admin = admin(bootstrap)) {
      int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
          .get(topic).partitions().size();
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        request.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      long sum = 0;
      for (var info : admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).values()) {
        sum += info.offset();
      }
      return sum;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the end of topic " + topic, e);
    }
  }

  /** Creates a plain (delete-policy) topic with one partition, for the raw Kafka baselines. */
  static void createTopic(String bootstrap, String topic) {
    try (Admin admin = admin(bootstrap)) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
  }

  private static Admin admin(String bootstrap) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        AdminClientConfig.CLIENT_ID_CONFIG, "cachet-bench-admin"));
  }

  /**
   * A plain consumer's settings: {@code byte[]} deserializers, no group (it assigns partitions
   * itself), no commits; every other setting at Kafka's default.
   */
  static Map<String, Object> plainConsumer(String bootstrap, String clientId) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return c;
  }

  /**
   * The plain consumer's properties with the settings a Cachet node gives its own consumer
   * ({@code KafkaClients.consumer}: 5,000 records per poll, 100 ms fetch wait, no offset reset, no
   * topic auto-creation, 500 ms reconnect back-off), so a comparison differs only in what is done
   * with each record.
   */
  static Map<String, Object> plainConsumerLikeCachet(String bootstrap, String clientId) {
    Map<String, Object> c = plainConsumer(bootstrap, clientId);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    c.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    c.put("reconnect.backoff.max.ms", "500");
    return c;
  }

  /** A fresh, unused topic name: {@code prefix-<hex time>}. */
  static String topicName(String prefix) {
    return prefix + "-" + Long.toHexString(System.currentTimeMillis());
  }

  // ------------------------------------------------------------------ arguments and reporting

  /**
   * Parses {@code name=value} arguments, refusing names not in {@code defaults}; returns the
   * defaults overridden by the arguments.
   */
  static Map<String, String> arguments(String[] args, Map<String, String> defaults, String usage) {
    Map<String, String> result = new HashMap<>(defaults);
    for (String arg : args) {
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg : arg.substring(0, eq);
      if (eq < 0 || !defaults.containsKey(name)) {
        throw new IllegalArgumentException("unknown argument '" + arg + "'; usage: " + usage);
      }
      result.put(name, arg.substring(eq + 1));
    }
    return result;
  }

  /** Returns the {@code bootstrap} argument, or {@code null} (start a broker) when it is empty. */
  static @Nullable String bootstrapArgument(Map<String, String> args) {
    String b = args.getOrDefault("bootstrap", "");
    return b.isBlank() ? null : b;
  }

  /** Nearest-rank percentile of sorted values; {@code q} in (0, 1]. */
  static long percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** Returns a sorted copy. */
  static long[] sorted(long[] values) {
    long[] copy = values.clone();
    Arrays.sort(copy);
    return copy;
  }

  /** Median of doubles (mean of the middle two for an even count). */
  static double median(double[] values) {
    double[] copy = values.clone();
    Arrays.sort(copy);
    int n = copy.length;
    return n == 0 ? 0 : (n % 2 == 1 ? copy[n / 2] : (copy[n / 2 - 1] + copy[n / 2]) / 2);
  }

  /** Nanoseconds as milliseconds with two decimals. */
  static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
  }

  /** The 1-minute load average, from {@code /proc/loadavg} ("?" where there is none). */
  static String load1() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  /** One line on the machine: CPUs, CPU model, Java. */
  static String machine() {
    String model = "?";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          model = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException e) {
      // Not Linux: the model stays unknown.
    }
    return Runtime.getRuntime().availableProcessors() + " CPUs (" + model + "), Java " + System.getProperty("java.version")
        + " (" + System.getProperty("java.vm.name") + "), max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB";
  }

  /** Returns the CPU time this JVM has used so far (all threads), or -1 where unknown. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** Returns the CPU time of the live thread called {@code name}, or -1 when there is none. */
  static long threadCpuNanos(String name) {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(name)) {
        return ManagementFactory.getThreadMXBean().getThreadCpuTime(t.getId());
      }
    }
    return -1;
  }

  /** Progress goes to stderr; the results (Markdown) to stdout. */
  static void progress(String format, Object... args) {
    System.err.println(String.format(Locale.ROOT, format, args));
  }

  /** Sleeps without throwing; re-sets the interrupt flag if interrupted. */
  static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Parks until {@code deadlineNanos} (System.nanoTime()). */
  static void parkUntil(long deadlineNanos) {
    long remaining;
    while ((remaining = deadlineNanos - System.nanoTime()) > 0) {
      LockSupport.parkNanos(remaining);
    }
  }

  /** Asks for a full collection and a short pause, so that one run's garbage does not land in the next. */
  static void settle() {
    System.gc();
    pause(Duration.ofSeconds(1));
  }
}
