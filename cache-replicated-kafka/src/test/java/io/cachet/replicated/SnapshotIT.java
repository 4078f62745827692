package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.CacheNotReadyException;
import io.cachet.codec.Codec;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Start-up from a local snapshot: a node applies only the records written since its snapshot, and
 * any snapshot it cannot trust makes it replay the whole topic instead.
 *
 * <p>Every test has its own topic. Node "a" keeps a snapshot; node "b" never does and serves as
 * the reference: it applied every record of the topic itself.
 */
@Tag("kafka")
final class SnapshotIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static final Duration SNAPSHOT_INTERVAL = Duration.ofSeconds(1);

  @TempDir Path directory;

  private final List<CacheManager> managers = new ArrayList<>();

  @AfterEach
  void closeManagers() {
    managers.forEach(CacheManager::close);
  }

  @Test
  void create_withSnapshot_replaysOnlyTheTail() throws IOException {
    String topic = newTopic();
    Path snapshot = directory.resolve("a.snapshot");
    CacheManager first = newManager();
    Cache<String, String> a = first.create(config(topic, "a", snapshot));
    Map<String, String> expected = putRange(a, 0, 100, "a");
    ReplicatedCache<?, ?> replicated = a.unwrap(ReplicatedCache.class);
    assertThat(replicated.isReady()).isTrue();
    first.close();
    assertThat(snapshot).as("written on close").exists();
    assertThat(replicated.isReady()).as("a closed cache is not ready").isFalse();

    Cache<String, String> b = newManager().create(config(topic, "b", null));
    long tail = writeTail(b, expected);
    Cache<String, String> restarted;
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      restarted = newManager().create(config(topic, "a", snapshot));
      assertThat(logs.warnings()).as("a usable snapshot warns about nothing").isEmpty();
    }

    ReplicationStatus status = status(restarted);
    assertThat(status.ready()).isTrue();
    assertThat(status.replayTarget()).as("only the records written since the snapshot").isEqualTo(tail);
    assertThat(status.replayTarget()).isLessThan(100 + tail);
    assertThat(status.replayedRecords()).isEqualTo(tail);
    assertSameData(restarted, b, expected);
  }

  @Test
  void create_withPeriodicSnapshot_replaysFromWhereItWasTaken() throws IOException {
    String topic = newTopic();
    Path live = directory.resolve("a.snapshot");
    Path copy = directory.resolve("crash.snapshot");
    CacheManager first = newManager();
    Cache<String, String> a = first.create(config(topic, "a", live));
    Map<String, String> expected = putRange(a, 0, 50, "a");
    FileTime applied = FileTime.from(Instant.now());
    // Taken every second while the node runs; keep one written after the first 50 writes were
    // applied, as a node that crashed at this point would have left it.
    await().atMost(Duration.ofSeconds(30))
        .until(() -> Files.exists(live) && Files.getLastModifiedTime(live).compareTo(applied) > 0);
    Files.copy(live, copy);
    expected.putAll(putRange(a, 50, 80, "a"));
    first.close();

    Cache<String, String> b = newManager().create(config(topic, "b", null));
    long tail = 30 + writeTail(b, expected);
    Cache<String, String> restarted = newManager().create(config(topic, "a", copy));

    assertThat(status(restarted).replayTarget()).isEqualTo(tail);
    assertSameData(restarted, b, expected);
  }

  /** Ways a snapshot file gets damaged. */
  enum Damage {
    FLIPPED_BYTE {
      @Override
      void apply(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= (byte) 0xFF;
        Files.write(file, bytes);
      }
    },
    FLIPPED_CHECKSUM {
      @Override
      void apply(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 0x01;
        Files.write(file, bytes);
      }
    },
    TRUNCATED {
      @Override
      void apply(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3));
      }
    },
    EMPTY {
      @Override
      void apply(Path file) throws IOException {
        Files.write(file, new byte[0]);
      }
    },
    TRAILING_BYTES {
      @Override
      void apply(Path file) throws IOException {
        Files.write(file, new byte[] {42}, java.nio.file.StandardOpenOption.APPEND);
      }
    };

    abstract void apply(Path file) throws IOException;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Damage.class)
  void create_withDamagedSnapshot_replaysTheWholeTopic(Damage damage) throws IOException {
    String topic = newTopic();
    Path snapshot = directory.resolve("a.snapshot");
    CacheManager first = newManager();
    Map<String, String> expected = putRange(first.create(config(topic, "a", snapshot)), 0, 100, "a");
    first.close();
    damage.apply(snapshot);
    Cache<String, String> b = newManager().create(config(topic, "b", null));
    long tail = writeTail(b, expected);

    Cache<String, String> restarted;
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      restarted = newManager().create(config(topic, "a", snapshot));
      assertThat(logs.warnings())
          .anySatisfy(w -> assertThat(w).contains(snapshot.toString()).contains("unusable").contains(topic));
    }

    assertThat(status(restarted).ready()).isTrue();
    assertThat(status(restarted).replayTarget()).as("the whole topic").isEqualTo(100 + tail);
    assertSameData(restarted, b, expected);
  }

  @Test
  void create_withSnapshotOfAnotherTopic_replaysTheWholeTopic() throws IOException {
    Path snapshot = directory.resolve("a.snapshot");
    String otherTopic = newTopic();
    CacheManager other = newManager();
    // The same keys with other values, and keys this topic never has: none may leak in.
    putRange(other.create(config(otherTopic, "a", snapshot)), 0, 150, "other");
    other.close();
    String topic = newTopic();
    Cache<String, String> b = newManager().create(config(topic, "b", null));
    Map<String, String> expected = putRange(b, 0, 100, "b");

    Cache<String, String> a;
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      a = newManager().create(config(topic, "a", snapshot));
      assertThat(logs.warnings())
          .anySatisfy(w -> assertThat(w).contains(snapshot.toString()).contains("unusable").contains(otherTopic));
    }

    assertThat(status(a).ready()).isTrue();
    assertThat(status(a).replayTarget()).isEqualTo(100);
    assertSameData(a, b, expected);
    assertThat(a.getAll(keys(100, 150))).isEmpty();
  }

  @Test
  void create_withoutSnapshotFile_replaysTheWholeTopicAndWritesOne() {
    String topic = newTopic();
    Cache<String, String> b = newManager().create(config(topic, "b", null));
    Map<String, String> expected = putRange(b, 0, 100, "b");
    Path snapshot = directory.resolve("missing").resolve("a.snapshot");

    CacheManager manager = newManager();
    Cache<String, String> a;
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      a = manager.create(config(topic, "a", snapshot));
      assertThat(logs.warnings()).anySatisfy(w -> assertThat(w).contains("no snapshot").contains(snapshot.toString()));
    }

    assertThat(status(a).replayTarget()).isEqualTo(100);
    assertSameData(a, b, expected);
    manager.close();
    assertThat(snapshot).exists();
  }

  @Test
  void create_withSnapshotOfDeletedTopic_replaysTheRecreatedTopic() {
    String topic = newTopic();
    Path snapshot = directory.resolve("a.snapshot");
    CacheManager first = newManager();
    putRange(first.create(config(topic, "a", snapshot)), 0, 100, "old");
    first.close();
    TestTopics.delete(KAFKA.broker(), topic);
    // The topic is recreated with fewer records than the snapshot's position.
    TestTopics.create(KAFKA.broker(), topic, 1);
    Cache<String, String> b = newManager().create(config(topic, "b", null));
    Map<String, String> expected = putRange(b, 0, 10, "new");

    // A replica that stops never becomes ready, so creation would wait out the startup wait.
    Cache<String, String> a = newManager().create(config(topic, "a", snapshot, Duration.ZERO));

    awaitReadable(a);
    assertSameData(a, b, expected);
    assertThat(a.getAll(keys(10, 100))).isEmpty();
  }

  @Test
  void create_withSnapshotOfDeletedTopicThatGrewPastIt_replaysTheRecreatedTopic() {
    String topic = newTopic();
    Path snapshot = directory.resolve("a.snapshot");
    CacheManager first = newManager();
    putRange(first.create(config(topic, "a", snapshot)), 0, 20, "old");
    first.close();
    TestTopics.delete(KAFKA.broker(), topic);
    TestTopics.create(KAFKA.broker(), topic, 1);
    // The recreated topic holds more records than the snapshot's position: the positions fit,
    // but the entries and offsets in the snapshot describe a log that no longer exists.
    Cache<String, String> b = newManager().create(config(topic, "b", null));
    Map<String, String> expected = putRange(b, 100, 150, "new");

    // A replica that stops never becomes ready, so creation would wait out the startup wait.
    Cache<String, String> a = newManager().create(config(topic, "a", snapshot, Duration.ZERO));

    awaitReadable(a);
    assertThat(a.getAll(keys(0, 20))).as("entries of the deleted topic").isEmpty();
    assertSameData(a, b, expected);
  }

  // ------------------------------------------------------------------ helpers

  /**
   * A periodic save is written on a thread of its own: while its encoding is held up, a write on
   * the same node is applied and acknowledged (when the apply thread wrote it, the write waited for
   * the whole save and timed out). A close meanwhile waits for that save, then writes its own,
   * which holds everything: a restart from it replays nothing.
   */
  @Test
  void periodicSave_heldUpWhileEncoding_doesNotHoldUpWritesOnTheNode_andACloseWritesAfterIt() throws Exception {
    Thread test = Thread.currentThread();
    AtomicBoolean hold = new AtomicBoolean();
    CountDownLatch saving = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Codec<String> values = TestCodecs.utf8(value -> {
      if (hold.get() && Thread.currentThread() != test) {
        saving.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, bytes -> { });
    String topic = newTopic();
    Path snapshot = directory.resolve("held.snapshot");
    ReplicationOptions options = ReplicationOptions.builder()
        .bootstrapServers(KAFKA.broker().bootstrapServers())
        .topic(topic)
        .nodeId("a")
        .writeTimeout(Duration.ofSeconds(3))
        .snapshotInterval(SNAPSHOT_INTERVAL)
        .snapshotPath(snapshot)
        .build();
    CacheManager first = newManager();
    Cache<String, String> a = first.create(CacheConfig.builder("snapshots").valueCodec(values)
        .backend(ReplicatedCacheProvider.NAME).backendOptions(options).build());
    Map<String, String> expected = putRange(a, 0, 10, "a");

    hold.set(true);
    CompletableFuture<Void> closing;
    try {
      assertThat(saving.await(30, TimeUnit.SECONDS)).as("a periodic save began encoding").isTrue();
      a.put("during-save", "v");
      expected.put("during-save", "v");
      assertThat(a.get("during-save")).isEqualTo("v");
      assertThat(Thread.getAllStackTraces().keySet())
          .anySatisfy(t -> assertThat(t.getName()).isEqualTo("cachet-snapshot-snapshots"));
      closing = CompletableFuture.runAsync(first::close);
    } finally {
      hold.set(false);
      release.countDown();
    }
    closing.get(30, TimeUnit.SECONDS);

    Cache<String, String> restarted = newManager().create(config(topic, "a", snapshot));
    assertThat(status(restarted).replayTarget()).as("the close's save holds every record").isZero();
    for (Map.Entry<String, String> e : expected.entrySet()) {
      assertThat(restarted.get(e.getKey())).isEqualTo(e.getValue());
    }
  }

  private CacheManager newManager() {
    CacheManager manager = CacheManager.create();
    managers.add(manager);
    return manager;
  }

  private static String newTopic() {
    String topic = "snapshot-" + TOPICS.incrementAndGet();
    TestTopics.create(KAFKA.broker(), topic, 1);
    return topic;
  }

  private static CacheConfig config(String topic, String nodeId, @Nullable Path snapshot) {
    return config(topic, nodeId, snapshot, ReplicationOptions.DEFAULT_STARTUP_WAIT);
  }

  private static CacheConfig config(String topic, String nodeId, @Nullable Path snapshot, Duration startupWait) {
    ReplicationOptions.Builder options = ReplicationOptions.builder()
        .startupWait(startupWait)
        .bootstrapServers(KAFKA.broker().bootstrapServers())
        .topic(topic)
        .nodeId(nodeId)
        .snapshotInterval(SNAPSHOT_INTERVAL);
    if (snapshot != null) {
      options.snapshotPath(snapshot);
    }
    return CacheConfig.builder("snapshots")
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(options.build())
        .build();
  }

  private static Map<String, String> putRange(Cache<String, String> cache, int from, int to, String prefix) {
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = from; i < to; i++) {
      values.put("key-" + i, prefix + "-" + i);
    }
    cache.putAll(values);
    return values;
  }

  /**
   * Writes through {@code node} what a second node adds while the first is down: new keys,
   * overwrites and removals, one record each. Returns the number of records.
   */
  private static long writeTail(Cache<String, String> node, Map<String, String> expected) {
    expected.putAll(putRange(node, 100, 140, "tail"));
    expected.putAll(putRange(node, 0, 10, "overwritten"));
    for (int i = 10; i < 15; i++) {
      assertThat(node.remove("key-" + i)).isTrue();
      expected.remove("key-" + i);
    }
    return 40 + 10 + 5;
  }

  private static Set<String> keys(int from, int to) {
    Set<String> keys = new TreeSet<>();
    for (int i = from; i < to; i++) {
      keys.add("key-" + i);
    }
    return keys;
  }

  /** Both nodes serve exactly {@code expected} over every key any test uses. */
  private static void assertSameData(Cache<String, String> node, Cache<String, String> reference,
      Map<String, String> expected) {
    Set<String> universe = keys(0, 200);
    await().atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(reference.getAll(universe)).isEqualTo(expected));
    assertThat(node.getAll(universe)).isEqualTo(expected);
    assertThat(node.estimatedSize()).isEqualTo(reference.estimatedSize()).isEqualTo(expected.size());
  }

  /** Waits until reads are served; a replica that stopped fails at once (its reads throw CacheException). */
  private static void awaitReadable(Cache<String, String> cache) {
    await().atMost(Duration.ofSeconds(30))
        .ignoreException(CacheNotReadyException.class)
        .until(() -> {
          cache.get("key-0");
          return true;
        });
  }

  private static ReplicationStatus status(Cache<String, String> cache) {
    return cache.unwrap(ReplicatedCache.class).status();
  }
}
