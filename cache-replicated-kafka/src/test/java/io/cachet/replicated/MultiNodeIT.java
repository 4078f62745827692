package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.CacheNotReadyException;
import io.cachet.FakeTicker;
import io.cachet.codec.Codec;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several nodes of one replicated cache in this JVM: one {@link CacheManager} per node, each with
 * its own node id, all on the same topic of one in-JVM broker. Each test gets a fresh topic,
 * created up front (see {@link TestTopics}).
 */
@Tag("kafka")
final class MultiNodeIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private final List<CacheManager> managers = new CopyOnWriteArrayList<>();
  private String topic;

  /** One node: a manager of its own holding the cache on the test's topic. */
  private record Node(String id, CacheManager manager, Cache<String, String> cache) {

    @SuppressWarnings("unchecked")
    ReplicatedCache<String, String> replicated() {
      return cache.unwrap(ReplicatedCache.class);
    }
  }

  @BeforeEach
  void freshTopic(TestInfo test) {
    topic = "multi-" + test.getTestMethod().orElseThrow().getName() + "-" + TOPICS.incrementAndGet();
    TestTopics.create(KAFKA.broker(), topic, 1);
  }

  @AfterEach
  void closeNodes() {
    managers.forEach(CacheManager::close);
  }

  private Node start(String nodeId) {
    return start(nodeId, config -> {}, options -> {});
  }

  private Node start(String nodeId, Consumer<CacheConfig.Builder<String, String>> config) {
    return start(nodeId, config, options -> {});
  }

  private Node start(
      String nodeId, Consumer<CacheConfig.Builder<String, String>> config, Consumer<ReplicationOptions.Builder> options) {
    ReplicationOptions.Builder replication = ReplicationOptions.builder()
        .bootstrapServers(KAFKA.broker().bootstrapServers())
        .topic(topic)
        .nodeId(nodeId);
    options.accept(replication);
    CacheConfig.Builder builder = CacheConfig.builder("multi")
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(replication.build());
    config.accept(builder);
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return new Node(nodeId, manager, manager.create(builder.build()));
  }

  private List<Node> startReady(String... nodeIds) throws InterruptedException {
    List<Node> nodes = new ArrayList<>();
    for (String id : nodeIds) {
      Node node = start(id);
      assertThat(node.replicated().awaitReady(PATIENCE)).as("node %s ready", id).isTrue();
      nodes.add(node);
    }
    return nodes;
  }

  /** Waits until every node reads {@code expected} (absent keys map to {@code null}). */
  private static void awaitViews(List<Node> nodes, Map<String, String> expected) {
    await().atMost(PATIENCE).untilAsserted(() -> nodes.forEach(n -> assertThat(view(n, expected.keySet()))
        .as("view of node %s", n.id()).isEqualTo(expected)));
  }

  /** Reads every key on {@code node}; absent keys map to {@code null}. */
  private static Map<String, String> view(Node node, Iterable<String> keys) {
    Map<String, String> view = new LinkedHashMap<>();
    for (String key : keys) {
      view.put(key, node.cache().get(key));
    }
    return view;
  }

  @Test
  void put_onAnyNode_visibleOnAllNodes() throws Exception {
    List<Node> nodes = startReady("a", "b", "c");
    Map<String, String> expected = new LinkedHashMap<>();
    for (Node node : nodes) {
      node.cache().put("key-" + node.id(), "from-" + node.id());
      expected.put("key-" + node.id(), "from-" + node.id());
      assertThat(node.cache().get("key-" + node.id())).as("read your own write on %s", node.id())
          .isEqualTo("from-" + node.id());
    }
    awaitViews(nodes, expected);

    // Every kind of change, each made on a node other than the one that wrote the key. A
    // conditional write decides on the local replica, so it waits until that node saw the key.
    assertThat(nodes.get(1).cache().replace("key-a", "from-a", "replaced-by-b")).isTrue();
    assertThat(nodes.get(2).cache().remove("key-b")).isTrue();
    await().atMost(PATIENCE).until(() -> nodes.get(0).cache().get("key-b") == null);
    assertThat(nodes.get(0).cache().putIfAbsent("key-b", "again-by-a")).isTrue();
    assertThat(nodes.get(0).cache().remove("key-c", "from-c")).isTrue();
    assertThat(nodes.get(1).cache().putIfAbsent("key-d", "new-by-b")).isTrue();
    await().atMost(PATIENCE).until(() -> "new-by-b".equals(nodes.get(2).cache().get("key-d")));
    assertThat(nodes.get(2).cache().replace("key-d", "newer-by-c")).isTrue();
    expected.put("key-a", "replaced-by-b");
    expected.put("key-b", "again-by-a");
    expected.put("key-c", null);
    expected.put("key-d", "newer-by-c");
    awaitViews(nodes, expected);
  }

  @Test
  void putIfAbsent_racingNodes_exactlyOneWinnerPerKey() throws Exception {
    List<Node> nodes = startReady("a", "b", "c");
    int rounds = 30;
    int keysPerRound = 10;
    Map<String, Queue<String>> winners = new ConcurrentHashMap<>();
    Queue<String> problems = new ConcurrentLinkedQueue<>();
    ExecutorService pool = Executors.newFixedThreadPool(nodes.size());
    try {
      for (int round = 0; round < rounds; round++) {
        List<String> keys = new ArrayList<>();
        for (int k = 0; k < keysPerRound; k++) {
          keys.add("r" + round + "-k" + k);
        }
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> racers = new ArrayList<>();
        for (Node node : nodes) {
          racers.add(pool.submit(() -> {
            List<String> order = new ArrayList<>(keys);
            Collections.shuffle(order);
            go.await();
            for (String key : order) {
              String mine = node.id() + "@" + key;
              boolean won = node.cache().putIfAbsent(key, mine);
              // Read-your-writes: the outcome is known locally as soon as the call returns.
              String seen = node.cache().get(key);
              if (won) {
                winners.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>()).add(mine);
                if (!mine.equals(seen)) {
                  problems.add(node.id() + " won " + key + " but then read " + seen);
                }
              } else if (seen == null || seen.equals(mine)) {
                problems.add(node.id() + " lost " + key + " but then read " + seen);
              }
            }
            return null;
          }));
        }
        go.countDown();
        for (Future<?> racer : racers) {
          racer.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
      }
    } finally {
      pool.shutdownNow();
    }

    List<String> allKeys = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (int k = 0; k < keysPerRound; k++) {
        allKeys.add("r" + round + "-k" + k);
      }
    }
    assertThat(problems).isEmpty();
    assertThat(allKeys).allSatisfy(key -> assertThat(winners.get(key)).as("winners of %s", key).hasSize(1));
    Map<String, String> expected = new LinkedHashMap<>();
    allKeys.forEach(key -> expected.put(key, winners.get(key).peek()));
    awaitViews(nodes, expected);
  }

  @Test
  void replace_compareAndSetIncrementsAcrossNodes_noIncrementLostOrDoubled() throws Exception {
    List<Node> nodes = startReady("a", "b", "c");
    nodes.get(0).cache().put("counter", "0");
    await().atMost(PATIENCE).untilAsserted(() -> nodes.forEach(n -> assertThat(n.cache().get("counter"))
        .isEqualTo("0")));
    int threads = 6;
    int attemptsPerThread = 40;
    Queue<Long> successes = new ConcurrentLinkedQueue<>();
    AtomicInteger failures = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> incrementers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Node node = nodes.get(t % nodes.size());
        incrementers.add(pool.submit(() -> {
          go.await();
          for (int i = 0; i < attemptsPerThread; i++) {
            // Sometimes a possibly stale local read, sometimes a linearizable one.
            String current = i % 3 == 0 ? node.replicated().readLatest("counter") : node.cache().get("counter");
            long next = Long.parseLong(current) + 1;
            if (node.cache().replace("counter", current, Long.toString(next))) {
              successes.add(next);
            } else {
              failures.incrementAndGet();
            }
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> incrementer : incrementers) {
        incrementer.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    long total = successes.size();
    assertThat(total).isPositive();
    assertThat(total + failures.get()).isEqualTo((long) threads * attemptsPerThread);
    // Each successful compare-and-set moved the counter one step: together they are exactly 1..total.
    assertThat(successes.stream().sorted().toList())
        .isEqualTo(IntStream.rangeClosed(1, (int) total).mapToObj(i -> (long) i).toList());
    awaitViews(nodes, Map.of("counter", Long.toString(total)));
  }

  @Test
  void restart_sameNodeIdAndTopic_replaysIdenticalData() throws Exception {
    FakeTicker clock = new FakeTicker(Instant.now());
    Consumer<CacheConfig.Builder<String, String>> fakeTime = config -> config.clock(clock);
    Node a = start("a", fakeTime);
    Node b = start("b", fakeTime);
    Node c = start("c", fakeTime);
    List<Node> nodes = List.of(a, b, c);
    for (Node node : nodes) {
      assertThat(node.replicated().awaitReady(PATIENCE)).isTrue();
    }
    Map<String, String> expected = new LinkedHashMap<>();
    for (int i = 0; i < 30; i++) {
      nodes.get(i % 3).cache().put("plain-" + i, "v" + i);
      expected.put("plain-" + i, "v" + i);
    }
    for (int i = 0; i < 10; i++) {
      nodes.get((i + 1) % 3).cache().put("plain-" + i, "w" + i);
      expected.put("plain-" + i, "w" + i);
    }
    for (int i = 20; i < 30; i++) {
      assertThat(nodes.get((i + 2) % 3).cache().remove("plain-" + i)).isTrue();
      expected.put("plain-" + i, null);
    }
    // Conditional writes decide on the local replica: let every node see the state first.
    awaitViews(nodes, expected);
    assertThat(a.cache().remove("plain-10", "v10")).isTrue();
    expected.put("plain-10", null);
    assertThat(b.cache().replace("plain-11", "v11", "x11")).isTrue();
    expected.put("plain-11", "x11");
    assertThat(c.cache().putIfAbsent("plain-12", "not-stored")).isFalse();
    assertThat(c.cache().putIfAbsent("new-0", "p0")).isTrue();
    expected.put("new-0", "p0");
    assertThat(a.cache().remove("never-written")).isFalse();
    expected.put("never-written", null);
    for (int i = 0; i < 10; i++) {
      nodes.get(i % 3).cache().put("long-" + i, "l" + i, Duration.ofMinutes(10));
      expected.put("long-" + i, "l" + i);
      nodes.get((i + 1) % 3).cache().put("short-" + i, "s" + i, Duration.ofMinutes(1));
      expected.put("short-" + i, "s" + i);
    }
    awaitViews(nodes, expected);
    assertThat(a.cache().expire("long-0", Duration.ofMinutes(1))).isTrue();
    assertThat(b.cache().expire("short-0", Duration.ofMinutes(10))).isTrue();
    assertThat(c.cache().expire("plain-13", Duration.ZERO)).isTrue();
    expected.put("plain-13", null);
    awaitViews(nodes, expected);
    clock.advance(Duration.ofMinutes(2));
    for (int i = 1; i < 10; i++) {
      expected.put("short-" + i, null);
    }
    expected.put("long-0", null);
    awaitViews(nodes, expected);

    Map<String, String> beforeRestart = view(c, expected.keySet());
    c.manager().close();
    assertThat(c.cache().isClosed()).isTrue();
    assertThatThrownBy(() -> c.cache().get("plain-0")).isInstanceOf(IllegalStateException.class);
    // Changes made while c is down.
    a.cache().put("while-down", "d");
    expected.put("while-down", "d");
    b.cache().put("plain-0", "changed-while-down");
    expected.put("plain-0", "changed-while-down");
    assertThat(a.cache().remove("plain-1")).isTrue();
    expected.put("plain-1", null);

    // Ready means replayed up to the end taken at start: every write that returned before it.
    Node restarted = start("c", fakeTime);
    assertThat(restarted.replicated().awaitReady(PATIENCE)).isTrue();
    assertThat(restarted.replicated().status().replayTarget()).isPositive();
    Map<String, String> afterRestart = view(restarted, expected.keySet());
    assertThat(afterRestart).isEqualTo(expected);
    Map<String, String> unchanged = new HashMap<>(beforeRestart);
    unchanged.keySet().removeAll(List.of("while-down", "plain-0", "plain-1"));
    assertThat(afterRestart).containsAllEntriesOf(unchanged);
    awaitViews(List.of(a, b, restarted), expected);

    // The restarted node writes and hears like any other.
    restarted.cache().put("after-restart", "r");
    a.cache().put("to-restarted", "t");
    await().atMost(PATIENCE).untilAsserted(() -> {
      assertThat(a.cache().get("after-restart")).isEqualTo("r");
      assertThat(b.cache().get("after-restart")).isEqualTo("r");
      assertThat(restarted.cache().get("to-restarted")).isEqualTo("t");
    });
  }

  @Test
  void isReady_largeTopic_falseUntilReplayCatchesUp() throws Exception {
    int records = 200_000;
    int window = 5_000;
    Node writer = start("writer", config -> config.maximumSize(1_000_000).executor(Runnable::run));
    assertThat(writer.replicated().awaitReady(PATIENCE)).isTrue();
    AsyncCache<String, String> async = writer.cache().async();
    for (int from = 0; from < records; from += window) {
      List<CompletableFuture<?>> batch = new ArrayList<>(window);
      for (int i = from; i < from + window; i++) {
        batch.add(async.put("k" + i, "v" + i).toCompletableFuture());
      }
      CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }
    List<CompletableFuture<?>> removals = new ArrayList<>();
    for (int i = 0; i < records; i += 1_000) {
      removals.add(async.remove("k" + i).toCompletableFuture());
    }
    CompletableFuture.allOf(removals.toArray(CompletableFuture[]::new)).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    long topicRecords = records + removals.size();

    Node late = start("late", config -> config.maximumSize(1_000_000), options -> options.startupWait(Duration.ZERO));
    ReplicatedCache<String, String> replica = late.replicated();
    boolean readyAtOnce = replica.isReady();
    boolean getRefused = false;
    if (!readyAtOnce) {
      try {
        late.cache().get("k1");
        assertThat(replica.isReady()).as("get answered, so the replica must have become ready").isTrue();
      } catch (CacheNotReadyException e) {
        getRefused = true;
      }
    }
    List<Double> progress = new ArrayList<>();
    await().atMost(PATIENCE).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5)).until(() -> {
      ReplicationStatus status = replica.status();
      if (progress.isEmpty() || !progress.get(progress.size() - 1).equals(status.replayProgress())) {
        progress.add(status.replayProgress());
      }
      return status.ready();
    });

    assertThat(readyAtOnce).as("ready at once, with %s records to replay", topicRecords).isFalse();
    assertThat(getRefused).as("get refused while replaying").isTrue();
    assertThat(progress).as("replay progress samples").isSorted().endsWith(1.0)
        .anySatisfy(p -> assertThat(p).isStrictlyBetween(0.0, 1.0));
    assertThat(replica.isReady()).isTrue();
    ReplicationStatus status = replica.status();
    assertThat(status.replayTarget()).isEqualTo(topicRecords);
    assertThat(status.replayedRecords()).isGreaterThanOrEqualTo(topicRecords);
    assertThat(status.entries()).isEqualTo(records - removals.size());
    List<String> keys = IntStream.range(0, records).mapToObj(i -> "k" + i).toList();
    Map<String, String> expected = new HashMap<>();
    for (int i = 0; i < records; i++) {
      if (i % 1_000 != 0) {
        expected.put("k" + i, "v" + i);
      }
    }
    assertThat(late.cache().getAll(keys)).isEqualTo(expected);
  }

  @Test
  void readLatest_afterWriteOnOtherNode_returnsItWithoutWaiting() throws Exception {
    List<Node> nodes = startReady("a", "b");
    Node a = nodes.get(0);
    Node b = nodes.get(1);
    for (int i = 0; i < 100; i++) {
      Node writer = i % 2 == 0 ? a : b;
      Node reader = i % 2 == 0 ? b : a;
      String key = "key-" + (i % 7);
      writer.cache().put(key, "v" + i);
      assertThat(reader.replicated().readLatest(key)).as("round %s", i).isEqualTo("v" + i);
      if (i % 10 == 9) {
        writer.cache().remove(key);
        assertThat(reader.replicated().readLatest(key)).as("round %s, removed", i).isNull();
      }
    }
  }

  /**
   * The position of a partition moves before the record at that position is stored. A writer that
   * decides in between sees the key as unknown yet names the incoming record as the one it
   * expects, so its conditional record applies on top of a value it never saw.
   */
  @Test
  void putIfAbsent_whileLocalReplicaAppliesTheKey_losesToTheEarlierRecord() throws Exception {
    GateCodec gate = new GateCodec("from-b");
    Node a = start("a", config -> config.valueCodec(gate));
    Node b = start("b");
    try {
      assertThat(a.replicated().awaitReady(PATIENCE)).isTrue();
      assertThat(b.replicated().awaitReady(PATIENCE)).isTrue();
      assertThat(b.cache().putIfAbsent("key", "from-b")).isTrue();
      assertThat(gate.entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("a applies b's record").isTrue();
      // a's replica is inside the record for "key": the write is decided and sent now.
      CompletionStage<Boolean> aWon = a.cache().async().putIfAbsent("key", "from-a");
      gate.release.countDown();
      boolean won = aWon.toCompletableFuture().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      // a has applied its own record, so both replicas hold the final state now.
      assertThat(Arrays.asList(won, a.cache().get("key"), b.replicated().readLatest("key")))
          .as("a's putIfAbsent result after b's won, then the value on a and on b")
          .containsExactly(false, "from-b", "from-b");
    } finally {
      gate.release.countDown();
    }
  }

  /** The same window as above, seen by the read barrier: it is passed before the value is stored. */
  @Test
  void readLatest_whileLocalReplicaAppliesTheKey_returnsTheNewValue() throws Exception {
    GateCodec gate = new GateCodec("v2");
    Node a = start("a");
    Node b = start("b", config -> config.valueCodec(gate));
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      assertThat(a.replicated().awaitReady(PATIENCE)).isTrue();
      assertThat(b.replicated().awaitReady(PATIENCE)).isTrue();
      a.cache().put("key", "v1");
      await().atMost(PATIENCE).until(() -> "v1".equals(b.cache().get("key")));
      a.cache().put("key", "v2");
      assertThat(gate.entered.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("b applies v2").isTrue();
      Future<String> read = reader.submit(() -> b.replicated().readLatest("key"));
      try {
        // A correct barrier cannot pass while v2 is being applied: give a wrong answer time to show.
        String early = read.get(3, TimeUnit.SECONDS);
        assertThat(early).as("readLatest answered while v2 was still being applied").isEqualTo("v2");
      } catch (TimeoutException expected) {
        // Still waiting for v2, as it should.
      }
      gate.release.countDown();
      assertThat(read.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("v2");
    } finally {
      gate.release.countDown();
      reader.shutdownNow();
    }
  }

  /**
   * A UTF-8 codec that holds the replica's apply thread the first time it decodes one marked value,
   * to widen the window between a record's position and its effect (a GC pause does the same).
   */
  private static final class GateCodec implements Codec<String> {

    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    private final String marker;
    private final AtomicInteger held = new AtomicInteger();

    GateCodec(String marker) {
      this.marker = marker;
    }

    @Override
    public byte[] encode(String value) {
      return value.getBytes(UTF_8);
    }

    @Override
    public String decode(byte[] bytes) {
      String value = new String(bytes, UTF_8);
      if (value.equals(marker) && held.getAndIncrement() == 0) {
        entered.countDown();
        try {
          release.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return value;
    }

    @Override
    public Class<String> type() {
      return String.class;
    }
  }
}
