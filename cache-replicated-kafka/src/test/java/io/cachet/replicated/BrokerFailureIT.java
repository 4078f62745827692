package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.CacheNotReadyException;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import io.cachet.testkit.kafka.KafkaBrokerProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker, a JVM of its own, is killed with SIGKILL and restarted on the same ports and data:
 * writes fail within a bound, reads keep serving the local replica, and after the restart writes
 * succeed again, the replicas converge and no acknowledged write is lost.
 */
@Tag("kafka")
final class BrokerFailureIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.separateProcess();

  private static final Logger LOG = LoggerFactory.getLogger(BrokerFailureIT.class);
  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(2);
  /** A generous bound on any failing call: a write waits writeTimeout, then one offset lookup. */
  private static final Duration CALL_BOUND = WRITE_TIMEOUT.multipliedBy(3);
  /** The liveness bound of a write during an outage: its timeout plus a margin for a loaded machine. */
  private static final Duration WRITE_BOUND = WRITE_TIMEOUT.plusSeconds(2);
  /** Reads answer from the local replica; generous, for a loaded machine, and far below a write's wait. */
  private static final Duration READ_BOUND = Duration.ofSeconds(1);
  /** How long restarting the broker and reconnecting may take on a loaded machine. */
  private static final Duration RECOVERY = Duration.ofSeconds(90);

  private final List<CacheManager> managers = new ArrayList<>();

  @AfterEach
  void restartBrokerAndCloseNodes() {
    // Start the broker first, so that closing the nodes does not wait for it.
    if (!broker().isRunning()) {
      broker().start();
    }
    managers.forEach(CacheManager::close);
  }

  @Test
  void put_brokerKilledMidRun_failsInBoundThenRecoversWithoutLosingAcknowledgedWrites() throws Exception {
    String topic = newTopic();
    Cache<String, String> a = node(topic, "a", UnaryOperator.identity());
    Cache<String, String> b = node(topic, "b", UnaryOperator.identity());
    Map<String, String> stable = new LinkedHashMap<>();
    for (int i = 0; i < 20; i++) {
      (i % 2 == 0 ? a : b).put("stable-" + i, "v" + i);
      stable.put("stable-" + i, "v" + i);
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(a.getAll(stable.keySet())).isEqualTo(stable);
      assertThat(b.getAll(stable.keySet())).isEqualTo(stable);
    });
    Writer writer = new Writer(a, 10);
    writer.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> writer.successes.get() >= 20);

    broker().kill();

    await().atMost(Duration.ofSeconds(60)).until(() -> writer.failures.size() >= 2);
    Set<String> loadKeys = writer.keys();
    Map<String, String> loadDuringOutage = a.getAll(loadKeys);
    long started = System.nanoTime();
    Throwable fromB = catchThrowable(() -> b.put("stable-0", "during-outage"));
    assertOutageFailure(fromB, Duration.ofNanos(System.nanoTime() - started));
    // Reads keep serving the local replicas, which no longer change.
    assertThat(a.getAll(stable.keySet())).isEqualTo(stable);
    assertThat(b.getAll(stable.keySet())).isEqualTo(stable);
    assertThat(a.getAll(loadKeys)).isEqualTo(loadDuringOutage).hasSize(loadKeys.size());
    assertThat(a.get("stable-1")).isEqualTo("v1");

    broker().start();

    int successesAtRestart = writer.successes.get();
    await().atMost(RECOVERY).until(() -> writer.successes.get() >= successesAtRestart + 20);
    await().atMost(RECOVERY).ignoreExceptions().untilAsserted(() -> b.put("after-restart", "b"));
    writer.stop();
    assertThat(writer.failures).as("calls that failed while the broker was down").isNotEmpty();
    for (Failure failure : writer.failures) {
      LOG.info("Write failed after {} ms: {}", failure.took().toMillis(), failure.error().toString());
      assertOutageFailure(failure.error(), failure.took());
    }

    Set<String> allKeys = new HashSet<>(stable.keySet());
    allKeys.addAll(loadKeys);
    allKeys.add("after-restart");
    await().atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(a.getAll(allKeys)).isEqualTo(b.getAll(allKeys)));
    Map<String, String> converged = b.getAll(allKeys);
    assertThat(converged.get("after-restart")).isEqualTo("b");
    for (int i = 1; i < 20; i++) {
      assertThat(converged.get("stable-" + i)).isEqualTo("v" + i);
    }
    // b's write during the outage was not acknowledged: it may or may not have reached the log.
    assertThat(converged.get("stable-0")).isIn("v0", "during-outage");
    for (String key : loadKeys) {
      assertThat(converged.get(key))
          .as("key %s: its last acknowledged value, or a later unacknowledged one", key)
          .isIn(writer.allowed(key).toArray());
    }
  }

  @Test
  void create_brokerDownDuringStartup_notReadyUntilTheBrokerIsBack() {
    String topic = newTopic();
    Cache<String, String> a = node(topic, "a", UnaryOperator.identity());
    Map<String, String> expected = new HashMap<>();
    for (int i = 0; i < 50; i++) {
      expected.put("key-" + i, "value-" + i);
    }
    a.putAll(expected);
    // The broker parks each fetch of this node for fetch.max.wait.ms (far fewer bytes than
    // fetch.min.bytes are available), so its replay cannot finish before the broker is killed.
    Cache<String, String> c = node(topic, "c", options -> options
        .startupWait(Duration.ZERO)
        .kafkaProperty("fetch.min.bytes", String.valueOf(64 << 20))
        .kafkaProperty("fetch.max.wait.ms", "5000"));
    ReplicatedCache<?, ?> replaying = c.unwrap(ReplicatedCache.class);
    assertThat(replaying.isReady()).as("still replaying when created").isFalse();

    broker().kill();

    assertThat(replaying.isReady()).isFalse();
    assertThatThrownBy(() -> c.get("key-0"))
        .isInstanceOf(CacheNotReadyException.class)
        .hasMessageContaining(topic);
    // A node created now cannot even set up its topic: creation fails, as documented on
    // TopicSetup.ensure, after at most writeTimeout + 5 s.
    CacheManager late = newManager();
    long started = System.nanoTime();
    Throwable thrown = catchThrowable(() -> late.create(config(topic, "late", UnaryOperator.identity())));
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(thrown)
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining(topic)
        .hasCauseInstanceOf(Exception.class);
    assertThat(took).isLessThan(WRITE_TIMEOUT.plusSeconds(15));
    assertThat(late.cacheNames()).isEmpty();
    assertThat(replaying.isReady()).isFalse();
    assertThat(a.get("key-0")).as("a ready node keeps serving").isEqualTo("value-0");

    broker().start();

    await().atMost(RECOVERY).until(replaying::isReady);
    assertThat(replaying.status().replayTarget()).isEqualTo(50);
    assertThat(c.getAll(expected.keySet())).isEqualTo(expected);
    Cache<String, String> created = await().atMost(RECOVERY)
        .ignoreException(BackendUnavailableException.class)
        .until(() -> late.<String, String>create(config(topic, "late", UnaryOperator.identity())), cache -> true);
    assertThat(created.unwrap(ReplicatedCache.class).isReady()).isTrue();
    assertThat(created.getAll(expected.keySet())).isEqualTo(expected);
  }

  @Test
  void writes_brokerDown_eachFailsWithinItsBound_andReadsOnTheSameThreadAnswerAtOnce() throws Exception {
    String topic = newTopic();
    // Node a has written, so its producer knows the topic: its writes wait for acknowledgements.
    Cache<String, String> a = node(topic, "a", UnaryOperator.identity());
    a.put("k", "v");
    // Node fresh has never written: its producer has no metadata, so a send blocks for it.
    Cache<String, String> fresh = node(topic, "fresh", UnaryOperator.identity());
    await().atMost(Duration.ofSeconds(30)).until(() -> "v".equals(fresh.get("k")));

    broker().kill();

    int writers = 8;
    ExecutorService callers = Executors.newFixedThreadPool(writers);
    // One thread for fresh's async writes and its reads, as a server's event loop runs both.
    ExecutorService eventLoop = Executors.newSingleThreadExecutor();
    try {
      List<Future<Failure>> syncWrites = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        String key = "sync-" + i;
        syncWrites.add(callers.submit(() -> {
          long started = System.nanoTime();
          Throwable error = catchThrowable(() -> a.put(key, "during-outage"));
          return new Failure(error, Duration.ofNanos(System.nanoTime() - started));
        }));
      }
      // Everything is queued on the event loop at once: the writes first, then the reads. A write
      // that blocked the loop (a send waiting for metadata) would hold every read behind it.
      List<CompletableFuture<Failure>> asyncWrites = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        String key = "async-" + i;
        long submitted = System.nanoTime();
        CompletableFuture<Failure> failure = new CompletableFuture<>();
        eventLoop.execute(() -> fresh.async().put(key, "during-outage").whenComplete((ok, error) ->
            failure.complete(new Failure(error, Duration.ofNanos(System.nanoTime() - submitted)))));
        asyncWrites.add(failure);
      }
      List<Future<Duration>> reads = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        long submitted = System.nanoTime();
        reads.add(eventLoop.submit(() -> {
          assertThat(fresh.get("k")).isEqualTo("v");
          return Duration.ofNanos(System.nanoTime() - submitted);
        }));
      }
      for (int i = 0; i < reads.size(); i++) {
        assertThat(reads.get(i).get(CALL_BOUND.toMillis() * writers, TimeUnit.MILLISECONDS))
            .as("read %d on the event loop, from its submission", i).isLessThan(READ_BOUND);
      }
      long started = System.nanoTime();
      assertThat(a.get("k")).isEqualTo("v");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).as("read on a caller's thread").isLessThan(READ_BOUND);
      for (Future<Failure> write : syncWrites) {
        Failure failure = write.get(CALL_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(failure.error()).isInstanceOf(BackendUnavailableException.class)
            .hasMessageContaining(broker().bootstrapServers());
        assertThat(failure.took()).as("sync write").isLessThan(WRITE_BOUND);
      }
      for (CompletableFuture<Failure> write : asyncWrites) {
        Failure failure = write.get(CALL_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(Futures.unwrap(failure.error())).isInstanceOf(BackendUnavailableException.class);
        assertThat(failure.took()).as("async write, from its submission").isLessThan(WRITE_BOUND);
      }
    } finally {
      callers.shutdownNow();
      eventLoop.shutdownNow();
    }
  }

  @Test
  void anchor_brokerDownAcrossTheAnchorDelays_isRetriedUntilInTheLog_andAReplayedReplicaAgrees() {
    String topic = newTopic();
    Cache<String, String> a = node(topic, "a", UnaryOperator.identity());
    // What a losing conditional write of node a leaves: "winner" applied, then a putIfAbsent
    // decided before it, void, as the key's latest record. Node a anchors it 2 s later.
    TopicLog.send(broker().bootstrapServers(), List.of(
        TopicLog.record(topic, bytes("k"), bytes("winner"), new RecordMeta(RecordMeta.Op.PUT, false, 0, 0, 7, 1, "b")),
        TopicLog.record(topic, bytes("k"), bytes("loser"),
            new RecordMeta(RecordMeta.Op.PUT_IF_ABSENT, true, -1, 0, 7, 2, "a"))));
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
        .until(() -> a.unwrap(ReplicatedCache.class).status().replayedRecords() >= 2);

    broker().kill();

    // The anchor is sent and fails (no broker within the delivery timeout), then is sent again.
    await().atMost(Duration.ofSeconds(60)).until(() -> TopicLog.metric(a, "cache.replication.anchors.failed") >= 2);
    assertThat(TopicLog.metric(a, "cache.replication.unanchored.keys")).isEqualTo(1);
    assertThat(TopicLog.metric(a, "cache.replication.unanchored.oldest.ms")).isPositive();
    assertThat(a.get("k")).isEqualTo("winner");

    broker().start();

    await().atMost(RECOVERY).until(() -> TopicLog.metric(a, "cache.replication.unanchored.keys") == 0);
    // The cleaner keeps each key's latest record once min.compaction.lag.ms has passed; a node that
    // replays what it left must hold what the live node holds.
    String compactedTopic = topic + "-compacted";
    TestTopics.create(broker(), compactedTopic, 1);
    TopicLog.appendAtOriginalOffsets(broker().bootstrapServers(), compactedTopic,
        TopicLog.compacted(TopicLog.readAll(broker().bootstrapServers(), topic)));
    Cache<String, String> replayed = node(compactedTopic, "replayed", UnaryOperator.identity());
    assertThat(replayed.get("k")).isEqualTo(a.get("k")).isEqualTo("winner");
  }

  /**
   * The broker loses the tail of the log after node a saved its snapshot there (an unflushed tail
   * lost with the machine; an unclean leader election does the same), and node b's acknowledged
   * writes then grow the log back to the snapshot's position. Offsets alone still "fit", with
   * nothing left to replay: a restart that trusted them would be ready at once, serving a's lost
   * records and missing b's. The snapshot's leader epochs show the log parted from it, so the
   * restart replays the log instead, before it is ready.
   */
  @Test
  void restartFromSnapshot_afterTheLogLostItsTailAndRegrewToIt_replaysWhatTheLogHolds(@TempDir Path dir)
      throws Exception {
    String topic = newTopic();
    Path snapshot = dir.resolve("a.snapshot");
    CacheManager first = newManager();
    Cache<String, String> a = first.create(config(topic, "a", o -> o.snapshotPath(snapshot)));
    for (int i = 0; i < 10; i++) {
      a.put("lost-" + i, "a" + i); // one record batch each: the call returns once it is in the log
    }
    first.close(); // saves the snapshot at the log's end, 10
    assertThat(snapshot).exists();

    broker().kill();
    long end = keepFirstBatches(topic, 5);
    assertThat(end).as("records left in the log").isEqualTo(5);
    broker().start();

    Cache<String, String> b = node(topic, "b", UnaryOperator.identity());
    Map<String, String> acknowledged = new LinkedHashMap<>();
    for (int i = 0; i < 5; i++) {
      acknowledged.put("lost-" + i, "a" + i); // the records the log kept
    }
    for (int i = 0; i < 5; i++) {
      b.put("new-" + i, "b" + i);
      acknowledged.put("new-" + i, "b" + i);
    }

    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      Cache<String, String> restarted = node(topic, "a", o -> o.snapshotPath(snapshot)); // returns once ready
      assertThat(restarted.unwrap(ReplicatedCache.class).status().replayTarget())
          .as("the whole log replayed, not the nothing past the snapshot's position").isEqualTo(10);
      for (int i = 5; i < 10; i++) {
        assertThat(restarted.get("lost-" + i)).as("a key whose only record the log lost").isNull();
      }
      assertThat(restarted.getAll(acknowledged.keySet())).isEqualTo(acknowledged);
      assertThat(logs.warnings()).anySatisfy(w -> assertThat(w).contains(topic).contains("cut back")
          .contains("Replaying the topic from the beginning"));
      assertThat(TopicLog.metric(restarted, "cache.replication.rebuilds"))
          .as("found before the replay, not by a rebuild once ready").isZero();
    }
  }

  /**
   * Cuts the topic's only partition back to its first {@code batches} record batches, as a broker
   * that lost the rest would hold it; the broker must be down. Returns the log's new end offset.
   */
  private static long keepFirstBatches(String topic, int batches) throws IOException {
    Path partition = broker().directory().resolve("data").resolve(topic + "-0");
    Path segment;
    try (Stream<Path> files = Files.list(partition)) {
      segment = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().findFirst().orElseThrow();
    }
    long end;
    try (FileChannel log = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer header = ByteBuffer.allocate(12);
      long position = 0;
      end = 0;
      for (int i = 0; i < batches; i++) {
        header.clear();
        log.read(header, position);
        long baseOffset = header.getLong(0);
        int length = header.getInt(8);
        ByteBuffer lastOffsetDelta = ByteBuffer.allocate(4);
        log.read(lastOffsetDelta, position + 23); // after the length, epoch, magic, CRC and attributes
        end = baseOffset + lastOffsetDelta.getInt(0) + 1;
        position += 12 + length;
      }
      log.truncate(position);
    }
    // The broker rebuilds the indexes and its producer state from the log that is left.
    try (Stream<Path> files = Files.list(partition)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".index") || name.endsWith(".timeindex") || name.endsWith(".snapshot")) {
          Files.delete(f);
        }
      }
    }
    return end;
  }

  // ------------------------------------------------------------------ helpers

  private static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static KafkaBrokerProcess broker() {
    return KAFKA.process();
  }

  /** A failed write during the outage: the documented exception types, a clear message, a bounded wait. */
  private static void assertOutageFailure(Throwable error, Duration took) {
    assertThat(error)
        .isNotNull()
        .isInstanceOfAny(BackendUnavailableException.class, ReplicationTimeoutException.class);
    assertThat(error.getMessage()).isNotBlank();
    if (error instanceof BackendUnavailableException) {
      assertThat(error.getMessage()).contains(broker().bootstrapServers());
    }
    assertThat(took).as("the call returned within a bound of its write timeout").isLessThan(CALL_BOUND);
  }

  private static String newTopic() {
    String topic = "broker-failure-" + TOPICS.incrementAndGet();
    TestTopics.create(broker(), topic, 1);
    return topic;
  }

  private CacheManager newManager() {
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return manager;
  }

  private Cache<String, String> node(
      String topic, String nodeId, UnaryOperator<ReplicationOptions.Builder> options) {
    return newManager().create(config(topic, nodeId, options));
  }

  private static CacheConfig config(
      String topic, String nodeId, UnaryOperator<ReplicationOptions.Builder> options) {
    return CacheConfig.builder("failure")
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(options.apply(ReplicationOptions.builder()
                .bootstrapServers(broker().bootstrapServers())
                .topic(topic)
                .nodeId(nodeId)
                .writeTimeout(WRITE_TIMEOUT))
            .build())
        .build();
  }

  private record Failure(Throwable error, Duration took) {}

  /**
   * Writes a counter to a few keys in turn from one thread, remembering per key the last value
   * acknowledged and the values of failed writes after it (which may still have reached the log).
   */
  private static final class Writer {
    private final Cache<String, String> cache;
    private final int keyCount;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    final AtomicInteger successes = new AtomicInteger();
    final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    // Written by the writer thread only; read after stop().
    private final Map<String, String> acknowledged = new HashMap<>();
    private final Map<String, List<String>> uncertain = new HashMap<>();

    Writer(Cache<String, String> cache, int keyCount) {
      this.cache = cache;
      this.keyCount = keyCount;
      this.thread = new Thread(this::run, "broker-failure-writer");
      thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join(CALL_BOUND.multipliedBy(3).toMillis());
      assertThat(thread.isAlive()).as("writer stopped").isFalse();
    }

    Set<String> keys() {
      Set<String> keys = new HashSet<>();
      for (int i = 0; i < keyCount; i++) {
        keys.add("load-" + i);
      }
      return keys;
    }

    /** The values {@code key} may hold: the last acknowledged one, or one written after it. */
    List<String> allowed(String key) {
      List<String> values = new ArrayList<>(uncertain.getOrDefault(key, List.of()));
      values.add(acknowledged.get(key));
      return values;
    }

    private void run() {
      // Stops by itself once the test closed the cache, even when an assertion failed first.
      for (long n = 0; running.get() && !cache.isClosed(); n++) {
        String key = "load-" + (n % keyCount);
        String value = "value-" + n;
        long started = System.nanoTime();
        try {
          cache.put(key, value);
          acknowledged.put(key, value);
          uncertain.remove(key);
          successes.incrementAndGet();
        } catch (RuntimeException e) {
          uncertain.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
          failures.add(new Failure(e, Duration.ofNanos(System.nanoTime() - started)));
        }
      }
    }
  }
}
