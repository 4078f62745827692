package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three nodes under random concurrent writes and random restarts; afterwards every replica must
 * equal a model built independently from the topic, and every acknowledged write must be in it.
 *
 * <p>The model re-implements the replication rule from its description, not from the backend's
 * code: per key, the offset of its latest record and its state; an unconditional record sets the
 * state; a conditional one sets it only if the key is unknown or its latest offset is at most the
 * record's expected offset, and is otherwise void (the latest offset moves, the state does not);
 * a record without a decodable header is void.
 */
@Tag("kafka")
final class ConvergenceIT {

  private static final Logger LOG = LoggerFactory.getLogger(ConvergenceIT.class);

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final int NODES = 3;
  private static final int WRITERS = 6;
  private static final int KEYS = 50;
  private static final int PARTITIONS = 3;
  private static final Duration RUN = Duration.ofSeconds(20);
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final AtomicInteger TOPICS = new AtomicInteger();

  private final String topic = "convergence-" + TOPICS.incrementAndGet();
  private final List<Slot> slots = new ArrayList<>();

  /** What a writer did. */
  enum Op { PUT, PUT_TTL, PUT_IF_ABSENT, REPLACE, REPLACE_IF_EQUAL, REMOVE, REMOVE_IF_EQUAL, EXPIRE }

  /**
   * One acknowledged write: {@code value} is the unique value it tried to store (or, for removals
   * and expiry, {@code null}), {@code expected} the value a compare-and-set compared with; the times
   * are {@link System#nanoTime()}.
   */
  record Ack(Op op, String key, @Nullable String value, @Nullable String expected, boolean result, long startedNanos,
      long returnedNanos, String node) {}

  /** A node's seat: the manager and cache running under its id now; swapped on restart. */
  private static final class Slot {
    final String nodeId;
    volatile CacheManager manager;
    volatile Cache<String, String> cache;

    Slot(String nodeId) {
      this.nodeId = nodeId;
    }

    @SuppressWarnings("unchecked")
    ReplicatedCache<String, String> replicated() {
      return cache.unwrap(ReplicatedCache.class);
    }
  }

  @AfterEach
  void closeNodes() {
    for (Slot slot : slots) {
      if (slot.manager != null) {
        slot.manager.close();
      }
    }
  }

  private void start(Slot slot) throws InterruptedException {
    CacheManager manager = CacheManager.create();
    Cache<String, String> cache;
    try {
      cache = manager.create(CacheConfig.builder("convergence")
          .backend(ReplicatedCacheProvider.NAME)
          .backendOptions(ReplicationOptions.builder()
              .bootstrapServers(KAFKA.broker().bootstrapServers())
              .topic(topic)
              .partitions(PARTITIONS)
              .nodeId(slot.nodeId)
              .build())
          .build());
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
    slot.manager = manager;
    slot.cache = cache;
    assertThat(slot.replicated().awaitReady(PATIENCE)).as("node %s ready", slot.nodeId).isTrue();
  }

  @Test
  void replicas_randomWritesAndRestarts_equalModelOfTopic() throws Exception {
    TestTopics.create(KAFKA.broker(), topic, PARTITIONS);
    for (int n = 0; n < NODES; n++) {
      Slot slot = new Slot("node-" + n);
      slots.add(slot);
      start(slot);
    }
    CountDownLatch stop = new CountDownLatch(1);
    Queue<Ack> acks = new ConcurrentLinkedQueue<>();
    Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    Queue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
    AtomicInteger restarts = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS + 1);
    List<Future<?>> tasks = new ArrayList<>();
    try {
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        tasks.add(pool.submit(() -> write(writer, stop, acks, failures, unexpected)));
      }
      tasks.add(pool.submit(() -> {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (!stop.await(random.nextLong(2_000, 4_000), TimeUnit.MILLISECONDS)) {
          Slot slot = slots.get(random.nextInt(NODES));
          slot.manager.close();
          start(slot);
          restarts.incrementAndGet();
        }
        return null;
      }));
      // The run's length paces the writers; nothing is judged by time.
      stop.await(RUN.toMillis(), TimeUnit.MILLISECONDS);
      stop.countDown();
      for (Future<?> task : tasks) {
        task.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      stop.countDown();
      pool.shutdownNow();
    }
    assertThat(unexpected).as("unexpected exceptions from cache operations").isEmpty();

    // With the writers stopped, every replica must equal the model of the topic up to one end,
    // observed while the topic stands still (records may still come: expiry removals, anchors).
    AtomicReference<Observation> first = new AtomicReference<>();
    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      Observation observation = observe();
      assertThat(observation).as("the topic did not change while the replicas were read").isNotNull();
      assertThat(differences(observation.model().keys, observation)).as("replicas against the model").isEmpty();
      first.set(observation);
    });
    Observation end = first.get();
    Model model = end.model();
    LOG.info("Convergence run: {} acknowledged ops {}, failed ops {}, {} restarts, {} records, {} void,"
            + " partition ends {}", acks.size(), countByOp(acks), new TreeMap<>(failures), restarts.get(),
        model.records, model.voids, end.ends());

    // The comparer can fail: one wrong model entry is reported.
    Map<String, KeyState> tampered = new HashMap<>(model.keys);
    tampered.put("key-0", new KeyState("tampered", 0, 0, 0));
    assertThat(differences(tampered, end)).as("differences after tampering with key-0").isNotEmpty()
        .allSatisfy(d -> assertThat(d).contains("key-0"));

    assertThat(checkAcknowledged(List.copyOf(acks), model, end))
        .as("acknowledged writes that the log or the replicas contradict").isEmpty();
    // So can the acknowledgement check: a put that never happened is reported.
    Ack invented = new Ack(Op.PUT, "key-0", "invented", null, true, 0, 0, "nowhere");
    assertThat(checkAcknowledged(List.of(invented), model, end)).as("an invented put").hasSize(1);
    Ack inventedRemove = new Ack(Op.REMOVE, "key-0", null, null, true, 0, 0, "nowhere");
    assertThat(checkAcknowledged(List.of(inventedRemove), model, end)).as("an invented removal").hasSize(1);

    // Then the log must become self-contained, as compaction needs it: the writers remove expired
    // values and anchor keys whose latest record is void. The replicas still equal the model.
    AtomicReference<Observation> settled = new AtomicReference<>();
    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      Observation observation = observe();
      assertThat(observation).as("the topic did not change while the replicas were read").isNotNull();
      List<String> loose = new ArrayList<>();
      observation.model().keys.forEach((key, state) -> {
        if (state.latestOffset() != state.validOffset()) {
          loose.add(key + " unanchored: " + state);
        } else if (state.value() != null && state.deadline() != 0) {
          loose.add(key + " holds a value with a deadline: " + state);
        }
      });
      assertThat(loose).as("keys not settled").isEmpty();
      assertThat(differences(observation.model().keys, observation)).as("replicas against the model").isEmpty();
      settled.set(observation);
    });
    Model last = settled.get().model();
    assertThat(checkAcknowledged(List.copyOf(acks), last, settled.get()))
        .as("acknowledged writes that the settled log or replicas contradict").isEmpty();
    LOG.info("Convergence settled: {} records, {} void, {} anchors, {} expiry removals", last.records, last.voids,
        last.opCount(Meta.ANCHOR), last.opCount(Meta.EXPIRED));
    assertThat(restarts.get()).isPositive();
    assertThat(acks).isNotEmpty();
  }

  /** One writer: random operations on random nodes until told to stop. */
  private Void write(int writer, CountDownLatch stop, Queue<Ack> acks, Map<String, LongAdder> failures,
      Queue<Throwable> unexpected) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long sequence = 0;
    while (stop.getCount() > 0) {
      Slot slot = slots.get(random.nextInt(NODES));
      Cache<String, String> cache = slot.cache;
      String key = "key-" + random.nextInt(KEYS);
      String value = "w" + writer + "-" + sequence++;
      Op op = Op.values()[random.nextInt(Op.values().length)];
      long started = System.nanoTime();
      try {
        Ack ack = switch (op) {
          case PUT -> {
            cache.put(key, value);
            yield new Ack(op, key, value, null, true, started, System.nanoTime(), slot.nodeId);
          }
          case PUT_TTL -> {
            cache.put(key, value, Duration.ofMillis(random.nextLong(1_000, 3_001)));
            yield new Ack(op, key, value, null, true, started, System.nanoTime(), slot.nodeId);
          }
          case PUT_IF_ABSENT -> {
            boolean done = cache.putIfAbsent(key, value);
            yield new Ack(op, key, value, null, done, started, System.nanoTime(), slot.nodeId);
          }
          case REPLACE -> {
            boolean done = cache.replace(key, value);
            yield new Ack(op, key, value, null, done, started, System.nanoTime(), slot.nodeId);
          }
          case REPLACE_IF_EQUAL -> {
            String current = random.nextBoolean() ? cache.get(key) : slot.replicated().readLatest(key);
            boolean done = current != null && cache.replace(key, current, value);
            yield current == null
                ? null
                : new Ack(op, key, value, current, done, started, System.nanoTime(), slot.nodeId);
          }
          case REMOVE -> {
            boolean done = cache.remove(key);
            yield new Ack(op, key, null, null, done, started, System.nanoTime(), slot.nodeId);
          }
          case REMOVE_IF_EQUAL -> {
            String current = cache.get(key);
            boolean done = cache.remove(key, current != null ? current : value);
            yield new Ack(op, key, null, null, done, started, System.nanoTime(), slot.nodeId);
          }
          case EXPIRE -> {
            Duration ttl = random.nextInt(10) == 0 ? Duration.ZERO : Duration.ofMillis(random.nextLong(1_000, 3_001));
            boolean done = cache.expire(key, ttl);
            yield new Ack(op, key, null, null, done, started, System.nanoTime(), slot.nodeId);
          }
        };
        if (ack != null) {
          acks.add(ack);
        }
      } catch (IllegalStateException | CacheException e) {
        // The node is being restarted (closed, or not ready yet), or a write timed out: try elsewhere.
        failures.computeIfAbsent(e.getClass().getSimpleName(), k -> new LongAdder()).increment();
      } catch (RuntimeException e) {
        unexpected.add(e);
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ observing the end state

  /** Every node's view of every key, read while the topic stood still at {@code ends}. */
  record Observation(Map<TopicPartition, Long> ends, Map<String, Map<String, String>> views, long fromMillis,
      long toMillis, Model model) {}

  /** Returns the replicas' views and the model at one log end, or {@code null} if the log moved meanwhile. */
  private @Nullable Observation observe() {
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer()) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      Map<TopicPartition, Long> before = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      for (Slot slot : slots) {
        // A read barrier: the node has applied at least everything up to `before`.
        slot.replicated().readLatest("key-0");
      }
      long from = System.currentTimeMillis();
      Map<String, Map<String, String>> views = new LinkedHashMap<>();
      for (Slot slot : slots) {
        Map<String, String> view = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
          view.put("key-" + k, slot.cache.get("key-" + k));
        }
        views.put(slot.nodeId, view);
      }
      long to = System.currentTimeMillis();
      Map<TopicPartition, Long> after = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      if (!before.equals(after)) {
        return null;
      }
      return new Observation(before, views, from, to, readModel(consumer, before));
    }
  }

  private static KafkaConsumer<byte[], byte[]> newConsumer() {
    Properties properties = new Properties();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.broker().bootstrapServers());
    properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    properties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    return new KafkaConsumer<>(properties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** Reads every partition from its beginning up to {@code ends} and applies the rule. */
  private static Model readModel(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
    consumer.assign(ends.keySet());
    consumer.seekToBeginning(ends.keySet());
    Model model = new Model();
    while (ends.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        if (record.offset() < ends.get(tp)) {
          model.apply(record);
        }
      }
    }
    return model;
  }

  /** What the model knows about a key: its state and the offsets of its latest and latest valid records. */
  record KeyState(@Nullable String value, long deadline, long latestOffset, long validOffset) {}

  /** A decoded metadata header. */
  record Meta(int op, boolean conditional, long expected, long deadline, String nodeId) {

    /** The op code of a record restating a key whose latest record was void. */
    static final int ANCHOR = 8;
    /** The op code of a record removing an expired value. */
    static final int EXPIRED = 9;

    /** Decodes the documented version-1 layout; {@code null} when the header is missing or malformed. */
    static @Nullable Meta decode(@Nullable Header header) {
      if (header == null || header.value() == null) {
        return null;
      }
      try {
        ByteBuffer buffer = ByteBuffer.wrap(header.value());
        byte version = buffer.get();
        int op = buffer.get();
        int flags = buffer.get();
        long expected = buffer.getLong();
        long deadline = buffer.getLong();
        buffer.getLong(); // session
        buffer.getLong(); // request
        int length = buffer.getShort();
        if (version != 1 || op < 1 || op > 10 || (flags & ~1) != 0 || deadline < 0 || length != buffer.remaining()) {
          return null;
        }
        byte[] node = new byte[length];
        buffer.get(node);
        return new Meta(op, (flags & 1) != 0, expected, deadline, new String(node, UTF_8));
      } catch (BufferUnderflowException e) {
        return null;
      }
    }
  }

  /** One record as the model saw it, with the key's value and deadline before it. */
  record Rec(String key, @Nullable String value, @Nullable Meta meta, int partition, long offset, boolean valid,
      @Nullable String before, long beforeDeadline) {}

  /** The model: the rule applied to the whole topic. */
  static final class Model {
    final Map<String, KeyState> keys = new HashMap<>();
    final Map<String, List<Rec>> byKey = new HashMap<>();
    long records;
    long voids;

    void apply(ConsumerRecord<byte[], byte[]> record) {
      records++;
      String key = new String(record.key(), UTF_8);
      String value = record.value() == null ? null : new String(record.value(), UTF_8);
      Meta meta = Meta.decode(record.headers().lastHeader("cachet"));
      KeyState previous = keys.get(key);
      boolean valid = meta != null
          && (!meta.conditional() || previous == null || previous.latestOffset() <= meta.expected());
      long offset = record.offset();
      if (valid) {
        keys.put(key, new KeyState(value, value == null ? 0 : meta.deadline(), offset, offset));
      } else {
        voids++;
        keys.put(key, previous == null
            ? new KeyState(null, 0, offset, -1)
            : new KeyState(previous.value(), previous.deadline(), offset, previous.validOffset()));
      }
      byKey.computeIfAbsent(key, k -> new ArrayList<>())
          .add(new Rec(key, value, meta, record.partition(), offset, valid,
              previous == null ? null : previous.value(), previous == null ? 0 : previous.deadline()));
    }

    long opCount(int op) {
      return byKey.values().stream().flatMap(List::stream)
          .filter(r -> r.meta() != null && r.meta().op() == op).count();
    }

    /** The first valid record of {@code key} carrying {@code value}: the write that brought it. */
    @Nullable Rec firstValid(String key, String value) {
      for (Rec r : byKey.getOrDefault(key, List.of())) {
        if (r.valid() && value.equals(r.value())) {
          return r;
        }
      }
      return null;
    }
  }

  /**
   * Compares every node's view with the model. Entries with a deadline are judged at the times the
   * views were read: live after them, expired before them, either in between.
   */
  private static List<String> differences(Map<String, KeyState> model, Observation observation) {
    List<String> differences = new ArrayList<>();
    observation.views().forEach((node, view) -> view.forEach((key, seen) -> {
      KeyState state = model.get(key);
      String expected = state == null ? null : state.value();
      if (expected != null && state.deadline() != 0 && state.deadline() <= observation.toMillis()) {
        if (state.deadline() <= observation.fromMillis()) {
          expected = null;
        } else if (seen == null) {
          return; // expired while the views were read
        }
      }
      if (!java.util.Objects.equals(expected, seen)) {
        differences.add(node + " " + key + ": replica " + seen + ", model " + state);
      }
    }));
    return differences;
  }

  /**
   * Checks every acknowledged write against the log and the replicas; returns what contradicts.
   *
   * <ul>
   *   <li>An acknowledged put is in the log, once; unless a later valid record of its key or its
   *       deadline ended it, every replica holds its value.
   *   <li>A conditional write that answered {@code true} brought its value into the log as a valid
   *       record; one that answered {@code false} never did.
   *   <li>Writes that succeeded one after the other in real time are in that order in the log.
   * </ul>
   */
  private static List<String> checkAcknowledged(List<Ack> acks, Model model, Observation observation) {
    List<String> problems = new ArrayList<>();
    Map<String, List<Map.Entry<Ack, Long>>> placed = new HashMap<>();
    for (Ack ack : acks) {
      switch (ack.op()) {
        case PUT, PUT_TTL -> {
          List<Rec> records = model.byKey.getOrDefault(ack.key(), List.of()).stream()
              .filter(r -> ack.value().equals(r.value()) && r.meta() != null && !r.meta().conditional())
              .toList();
          if (records.size() != 1) {
            problems.add(ack + ": " + records.size() + " records in the log");
            continue;
          }
          Rec record = records.get(0);
          placed.computeIfAbsent(ack.key(), k -> new ArrayList<>()).add(Map.entry(ack, record.offset()));
          KeyState state = model.keys.get(ack.key());
          if (state.validOffset() > record.offset()) {
            continue; // superseded
          }
          long deadline = record.meta().deadline();
          observation.views().forEach((node, view) -> {
            String seen = view.get(ack.key());
            boolean expired = deadline != 0 && deadline <= observation.toMillis();
            if (!ack.value().equals(seen) && !(expired && seen == null)) {
              problems.add(ack + ": latest write of its key (offset " + record.offset() + "), but " + node
                  + " holds " + seen);
            }
          });
        }
        case PUT_IF_ABSENT, REPLACE, REPLACE_IF_EQUAL -> {
          Rec record = model.firstValid(ack.key(), ack.value());
          if (ack.result() && record == null) {
            problems.add(ack + ": answered true, but no valid record carries its value");
          } else if (!ack.result() && record != null) {
            problems.add(ack + ": answered false, but its value became valid at offset " + record.offset());
          } else if (record != null) {
            placed.computeIfAbsent(ack.key(), k -> new ArrayList<>()).add(Map.entry(ack, record.offset()));
            // The state the write replaced must be one it could have been decided on.
            boolean fits = switch (ack.op()) {
              case PUT_IF_ABSENT -> record.before() == null || record.beforeDeadline() != 0;
              case REPLACE -> record.before() != null;
              default -> record.before() != null && record.before().equals(ack.expected());
            };
            if (!fits) {
              problems.add(ack + ": answered true, but its record at offset " + record.offset() + " replaced "
                  + record.before() + " (deadline " + record.beforeDeadline() + ")");
            }
          }
        }
        default -> {
          // Removals and expiry carry no value of their own to find in the log: counted below.
        }
      }
    }
    // A removal or expiry answered true is in the log as a valid record of its kind, written by
    // its node: per key and node, at least as many such records as acknowledgements.
    Map<String, Long> acknowledged = new TreeMap<>();
    for (Ack ack : acks) {
      int code = switch (ack.op()) {
        case REMOVE -> 2;
        case REMOVE_IF_EQUAL -> 6;
        case EXPIRE -> 7;
        default -> 0;
      };
      if (code != 0 && ack.result()) {
        acknowledged.merge(code + " " + ack.key() + " " + ack.node(), 1L, Long::sum);
      }
    }
    acknowledged.forEach((what, count) -> {
      String[] parts = what.split(" ", 3);
      int code = Integer.parseInt(parts[0]);
      long logged = model.byKey.getOrDefault(parts[1], List.of()).stream()
          .filter(r -> r.valid() && r.meta() != null && r.meta().op() == code && r.meta().nodeId().equals(parts[2]))
          .count();
      if (logged < count) {
        problems.add(count + " acknowledged op " + code + " of " + parts[1] + " by " + parts[2] + ", but "
            + logged + " valid records of it in the log");
      }
    });
    placed.forEach((key, writes) -> {
      for (Map.Entry<Ack, Long> earlier : writes) {
        for (Map.Entry<Ack, Long> later : writes) {
          boolean before = earlier.getKey().returnedNanos() < later.getKey().startedNanos();
          if (before && earlier.getValue() >= later.getValue()) {
            problems.add(later.getKey() + " at offset " + later.getValue() + " started after " + earlier.getKey()
                + " returned, which is at offset " + earlier.getValue());
          }
        }
      }
    });
    return problems;
  }

  private static Map<Op, Long> countByOp(Iterable<Ack> acks) {
    Map<Op, Long> counts = new TreeMap<>();
    for (Ack ack : acks) {
      counts.merge(ack.op(), 1L, Long::sum);
    }
    return counts;
  }
}
