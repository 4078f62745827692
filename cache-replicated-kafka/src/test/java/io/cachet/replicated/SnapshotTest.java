package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.codec.Codec;
import io.cachet.codec.Codecs;
import io.cachet.replicated.RecordMeta.Op;
import io.cachet.replicated.Snapshot.UnusableSnapshotException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot file on its own: what is written is read back exactly, on several threads when it
 * has several sections, and a file that is truncated, damaged or of another format version is
 * refused as unusable (so the node replays the topic), never read as wrong data and never a crash.
 */
final class SnapshotTest {

  private static final String TOPIC = "cachet-snap";
  private static final String TOPIC_ID = "topic-id";
  private static final long NOW = 1_700_000_000_000L;
  private static final long RETENTION = 86_400_000L;

  @TempDir Path directory;

  private final Map<Integer, Long> offsets = new HashMap<>();

  @Test
  void read_whatWasWritten_restoresEveryEntryAndPosition() throws IOException {
    Replica<String, String> source = sample(2, 20_000);
    Path file = directory.resolve("a.snapshot");

    long written = Snapshot.write(file, TOPIC, TOPIC_ID, source, Codecs.utf8(), Codecs.utf8(), NOW, 3_000);
    Replica<String, String> copy = new Replica<>(Codecs.utf8(), Codecs.utf8(), 2);
    long[] positions = Snapshot.read(file, TOPIC, TOPIC_ID, copy, Codecs.utf8(), Codecs.utf8(), NOW, RETENTION);

    assertThat(written).isEqualTo(20_000 + 4);
    assertThat(positions).containsExactly(source.position(0), source.position(1));
    assertThat(copy.position(0)).isEqualTo(source.position(0));
    assertThat(copy.position(1)).isEqualTo(source.position(1));
    assertThat(copy.size()).isEqualTo(source.size());
    Map<String, Entry<String>> expected = new HashMap<>();
    source.entries().forEach(e -> expected.put(e.getKey(), e.getValue()));
    Map<String, Entry<String>> actual = new HashMap<>();
    copy.entries().forEach(e -> actual.put(e.getKey(), e.getValue()));
    assertThat(actual).isEqualTo(expected);
    assertThat(copy.get("void").anchored()).isFalse();
    assertThat(copy.unanchored()).containsOnlyKeys("void");
    assertThat(copy.pollExpired(NOW + 60_000)).extracting(Map.Entry::getKey).containsExactly("expiring");
  }

  @Test
  void write_failingPartWay_leavesNoTemporaryFile_andThePreviousSnapshotAsItWas() throws IOException {
    Path file = directory.resolve("f.snapshot");
    Snapshot.write(file, TOPIC, TOPIC_ID, sample(1, 100), Codecs.utf8(), Codecs.utf8(), NOW, 3_000);
    byte[] before = Files.readAllBytes(file);
    int[] encoded = {0};
    Codec<String> failingKeys = TestCodecs.utf8(value -> {
      if (++encoded[0] == 50) {
        throw new IllegalStateException("cannot encode key " + value);
      }
    }, bytes -> { });

    assertThatThrownBy(() -> Snapshot.write(file, TOPIC, TOPIC_ID, sample(1, 200), failingKeys, Codecs.utf8(), NOW,
        3_000)).isInstanceOf(IllegalStateException.class);

    try (var listing = Files.list(directory)) {
      assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("f.snapshot");
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
  }

  @Test
  void valueThisNodeCannotDecode_isSavedAsItsBytes_andANodeWithTheNewerCodecReadsIt() throws IOException {
    Replica<String, String> source = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
    byte[] newer = {(byte) 0xff, 0x01};
    source.apply(0, 0, NOW, "plain".getBytes(UTF_8), newer, new RecordMeta(Op.PUT, false, 0, 0, 1, 1, "b").encode(),
        NOW);
    source.apply(0, 1, NOW, "expiring".getBytes(UTF_8), newer,
        new RecordMeta(Op.PUT, false, 0, NOW + 60_000, 1, 2, "b").encode(), NOW);
    Path file = directory.resolve("u.snapshot");
    Snapshot.write(file, TOPIC, TOPIC_ID, source, Codecs.utf8(), Codecs.utf8(), NOW, 3_000);

    Replica<String, String> same = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
    Snapshot.read(file, TOPIC, TOPIC_ID, same, Codecs.utf8(), Codecs.utf8(), NOW, RETENTION);
    assertThat(Unreadable.is(same.get("plain").value())).isTrue();
    assertThat(Unreadable.is(same.get("expiring").value())).isTrue();
    assertThat(same.get("expiring").deadline()).isEqualTo(NOW + 60_000);

    Replica<String, byte[]> upgraded = new Replica<>(Codecs.utf8(), Codecs.bytes(), 1);
    Snapshot.read(file, TOPIC, TOPIC_ID, upgraded, Codecs.utf8(), Codecs.bytes(), NOW, RETENTION);
    assertThat(upgraded.get("plain").value()).containsExactly(newer);
    assertThat(upgraded.get("expiring").value()).containsExactly(newer);
  }

  @Test
  void freeze_runsItsProgressCallbackAsItGoes_soALongCopyIsNotTakenForAPause() throws IOException {
    Replica<String, String> source = sample(2, 20_000);
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();

    Snapshot.Frozen<String, String> frozen = Snapshot.freeze(source, calls::incrementAndGet);
    long written = Snapshot.write(directory.resolve("p.snapshot"), TOPIC, TOPIC_ID, frozen, Codecs.utf8(),
        Codecs.utf8(), NOW, 3_000);

    assertThat(written).isEqualTo(frozen.size()).isEqualTo(20_000 + 4);
    assertThat(calls).hasValue((int) (written / Snapshot.PROGRESS_EVERY));
  }

  @Test
  void frozen_isTheReplicaAsOfTheFreeze_whateverIsAppliedAfter() throws IOException {
    Replica<String, String> source = sample(1, 1_000);
    Snapshot.Frozen<String, String> frozen = Snapshot.freeze(source, () -> { });
    long position = source.position(0);
    apply(source, 0, "after", "v", Op.PUT, false, 0, 0);
    apply(source, 0, "key-1", "changed", Op.PUT, false, 0, 0);

    Path file = directory.resolve("frozen.snapshot");
    Snapshot.write(file, TOPIC, TOPIC_ID, frozen, Codecs.utf8(), Codecs.utf8(), NOW, 3_000);
    Replica<String, String> copy = new Replica<>(Codecs.utf8(), Codecs.utf8(), 1);
    long[] positions = Snapshot.read(file, TOPIC, TOPIC_ID, copy, Codecs.utf8(), Codecs.utf8(), NOW, RETENTION);

    assertThat(positions).containsExactly(position);
    assertThat(copy.get("after")).isNull();
    assertThat(copy.get("key-1").value()).isEqualTo("value-1-x");
  }

  @Test
  void read_emptyReplica_restoresPositions() throws IOException {
    Replica<String, String> source = new Replica<>(Codecs.utf8(), Codecs.utf8(), 3);
    source.advance(1, 42);
    Path file = directory.resolve("a.snapshot");
    Snapshot.write(file, TOPIC, TOPIC_ID, source, Codecs.utf8(), Codecs.utf8(), NOW);

    Replica<String, String> copy = new Replica<>(Codecs.utf8(), Codecs.utf8(), 3);
    assertThat(Snapshot.read(file, TOPIC, TOPIC_ID, copy, Codecs.utf8(), Codecs.utf8(), NOW, RETENTION))
        .containsExactly(0, 42, 0);
    assertThat(copy.size()).isZero();
  }

  @Test
  void read_truncatedAnywhere_isUnusable() throws IOException {
    byte[] bytes = written(sample(1, 5_000));
    int[] cuts = {0, 5, 12, 40, 80, bytes.length / 3, bytes.length / 2, bytes.length - 100, bytes.length - 1};
    for (int cut : cuts) {
      Path file = directory.resolve("cut-" + cut);
      Files.write(file, Arrays.copyOf(bytes, cut));
      assertUnusable(file, 1);
    }
  }

  @Test
  void read_anyByteDamaged_isUnusable() throws IOException {
    byte[] bytes = written(sample(1, 5_000));
    Random random = new Random(7);
    for (int i = 0; i < 200; i++) {
      // Each of the first 100 bytes (the header, the section table), then bytes anywhere.
      int at = i < 100 ? i : random.nextInt(bytes.length);
      byte[] damaged = bytes.clone();
      damaged[at] ^= (byte) (1 << random.nextInt(8));
      Path file = directory.resolve("damaged-" + i);
      Files.write(file, damaged);
      assertUnusable(file, 1);
    }
  }

  @Test
  void read_trailingBytes_isUnusable() throws IOException {
    byte[] bytes = written(sample(1, 1_000));
    Path file = directory.resolve("longer");
    Files.write(file, Arrays.copyOf(bytes, bytes.length + 1));
    assertThatThrownBy(() -> read(file, 1)).isInstanceOf(UnusableSnapshotException.class)
        .hasMessageContaining("trailing bytes");
  }

  @Test
  void read_whatWasWritten_restoresEachPartitionsLeaderEpoch() throws IOException {
    Replica<String, String> source = sample(3, 30);
    source.leaderEpoch(0, 7);
    source.leaderEpoch(1, 0);
    Path file = directory.resolve("epochs.snapshot");

    Snapshot.write(file, TOPIC, TOPIC_ID, source, Codecs.utf8(), Codecs.utf8(), NOW, 3_000);
    Replica<String, String> copy = new Replica<>(Codecs.utf8(), Codecs.utf8(), 3);
    Snapshot.read(file, TOPIC, TOPIC_ID, copy, Codecs.utf8(), Codecs.utf8(), NOW, RETENTION);

    assertThat(new int[] {copy.leaderEpoch(0), copy.leaderEpoch(1), copy.leaderEpoch(2)})
        .as("partition 2 applied no record with an epoch").containsExactly(7, 0, -1);
  }

  @Test
  void read_formatVersion2_restoresEverythingWithLeaderEpochsUnknown() throws IOException {
    Replica<String, String> source = sample(2, 2_000);
    source.leaderEpoch(0, 4);
    source.leaderEpoch(1, 4);
    Path file = directory.resolve("v2.snapshot");
    Files.write(file, asVersion2(written(source), 2));

    Replica<String, String> copy = new Replica<>(Codecs.utf8(), Codecs.utf8(), 2);
    long[] positions = Snapshot.read(file, TOPIC, TOPIC_ID, copy, Codecs.utf8(), Codecs.utf8(), NOW, RETENTION);

    assertThat(positions).containsExactly(source.position(0), source.position(1));
    assertThat(copy.size()).isEqualTo(source.size()).isPositive();
    assertThat(copy.get("key-1")).isEqualTo(source.get("key-1"));
    assertThat(new int[] {copy.leaderEpoch(0), copy.leaderEpoch(1)}).containsExactly(-1, -1);
  }

  @Test
  void read_aLeaderEpochBelowUnknown_isUnusable() throws IOException {
    byte[] bytes = written(sample(1, 10));
    int epochAt = headerPrefixLength(bytes, 1);
    java.nio.ByteBuffer.wrap(bytes).putInt(epochAt, -2);
    rewriteHeaderCrc(bytes, 1);
    Path file = directory.resolve("bad-epoch.snapshot");
    Files.write(file, bytes);

    assertThatThrownBy(() -> read(file, 1)).isInstanceOf(UnusableSnapshotException.class)
        .hasMessageContaining("bad leader epoch -2");
  }

  @Test
  void read_formatVersion1_isUnusable() throws IOException {
    Path file = directory.resolve("v1.snapshot");
    Files.write(file, version1("value"));

    assertThatThrownBy(() -> read(file, 1)).isInstanceOf(UnusableSnapshotException.class)
        .hasMessageContaining("format version 1");
  }

  /**
   * A node cut off from Kafka goes on saving its replica: the snapshot is dated by the last time
   * the replica was confirmed caught up, so a restart from it past delete.retention.ms of that view
   * replays the log instead of keeping keys whose tombstones were dropped meanwhile.
   */
  @Test
  void snapshotStore_datesTheSnapshotByItsViewNotItsSave() throws IOException {
    Path file = directory.resolve("stale-view.snapshot");
    ReplicationOptions options = ReplicationOptions.builder().topic(TOPIC).snapshotPath(file).build();
    InstantSource now = InstantSource.fixed(java.time.Instant.ofEpochMilli(NOW));
    TopicSetup.TopicInfo info = new TopicSetup.TopicInfo(1, RETENTION, TOPIC_ID);

    new SnapshotStore<>("snap", options, info, Codecs.utf8(), Codecs.utf8(), now, () -> 1_000).save();
    assertThat(read(file, 1)).as("a view a second old").containsExactly(0);

    new SnapshotStore<>("snap", options, info, Codecs.utf8(), Codecs.utf8(), now, () -> RETENTION + 1_000).save();
    assertThatThrownBy(() -> read(file, 1)).as("saved now, from a view older than delete.retention.ms")
        .isInstanceOf(UnusableSnapshotException.class).hasMessageContaining("older than the topic's delete.retention.ms");
  }

  @Test
  void snapshotStore_formatVersion1_warnsAndStartsEmptyFromOffsetZero() throws IOException {
    Path file = directory.resolve("v1.snapshot");
    Files.write(file, version1("value"));
    ReplicationOptions options = ReplicationOptions.builder().topic(TOPIC).snapshotPath(file).build();

    SnapshotStore<String, String> store;
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      store = new SnapshotStore<>("snap", options, new TopicSetup.TopicInfo(1, RETENTION, TOPIC_ID), Codecs.utf8(),
          Codecs.utf8(), InstantSource.system(), () -> 0);
      assertThat(logs.warnings()).anySatisfy(w -> assertThat(w).contains(file.toString()).contains("unusable")
          .contains("format version 1"));
    }

    assertThat(store.replica().size()).isZero();
    assertThat(store.replica().get("k")).isNull();
    assertThat(store.startPositions()).containsExactly(0);
  }

  @Test
  void read_codecThrowsACheckedExceptionAroundTheCompiler_isUnusable() throws IOException {
    Path file = directory.resolve("sneaky.snapshot");
    Snapshot.write(file, TOPIC, TOPIC_ID, sample(1, 1_000), Codecs.utf8(), Codecs.utf8(), NOW, 100);
    Codec<String> values = failingOn("value-500-", new java.text.ParseException("not a value", 0));
    Replica<String, String> copy = new Replica<>(Codecs.utf8(), values, 1);

    assertThatThrownBy(() -> Snapshot.read(file, TOPIC, TOPIC_ID, copy, Codecs.utf8(), values, NOW, RETENTION))
        .isInstanceOf(UnusableSnapshotException.class).hasMessageContaining("ParseException: not a value");
  }

  @Test
  void snapshotStore_codecThrowsAnError_warnsAndStartsEmptyFromOffsetZero() throws IOException {
    Path file = directory.resolve("error.snapshot");
    Snapshot.write(file, TOPIC, TOPIC_ID, sample(1, 1_000), Codecs.utf8(), Codecs.utf8(), NOW, 100);
    Codec<String> values = failingOn("value-500-", new CodecError());
    ReplicationOptions options = ReplicationOptions.builder().topic(TOPIC).snapshotPath(file).build();

    SnapshotStore<String, String> store;
    try (CapturedLogs logs = CapturedLogs.of(ReplicatedKafkaCache.class)) {
      store = new SnapshotStore<>("snap", options, new TopicSetup.TopicInfo(1, RETENTION, TOPIC_ID), Codecs.utf8(),
          values, InstantSource.fixed(java.time.Instant.ofEpochMilli(NOW)), () -> 0);
      assertThat(logs.warnings()).anySatisfy(w -> assertThat(w).contains(file.toString()).contains("unusable")
          .contains(CodecError.class.getName()));
    }

    assertThat(store.replica().size()).isZero();
    assertThat(store.startPositions()).containsExactly(0);
  }

  /** An Error a codec may throw (a class it needs failed to load, an assertion). */
  private static final class CodecError extends Error {
    private static final long serialVersionUID = 1L;
  }

  /** UTF-8, except that decoding a value starting with {@code prefix} throws {@code failure}, checked or not. */
  private static Codec<String> failingOn(String prefix, Throwable failure) {
    return TestCodecs.utf8(value -> { }, bytes -> {
      if (new String(bytes, UTF_8).startsWith(prefix)) {
        throw SnapshotTest.<RuntimeException>sneaky(failure);
      }
    });
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E sneaky(Throwable failure) throws E {
    throw (E) failure;
  }

  private void assertUnusable(Path file, int partitions) {
    assertThatThrownBy(() -> read(file, partitions)).as(file.getFileName().toString())
        .isInstanceOf(UnusableSnapshotException.class);
  }

  private static long[] read(Path file, int partitions) throws IOException {
    Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), partitions);
    return Snapshot.read(file, TOPIC, TOPIC_ID, replica, Codecs.utf8(), Codecs.utf8(), NOW, RETENTION);
  }

  private byte[] written(Replica<String, String> replica) throws IOException {
    Path file = directory.resolve("source.snapshot");
    Snapshot.write(file, TOPIC, TOPIC_ID, replica, Codecs.utf8(), Codecs.utf8(), NOW, 1_000);
    return Files.readAllBytes(file);
  }

  /**
   * A replica of {@code plain} plain entries spread over the partitions, plus one of each other
   * kind in partition 0: a tombstone, an entry with a deadline, and a key left unanchored by a void
   * conditional record.
   */
  private Replica<String, String> sample(int partitions, int plain) {
    Replica<String, String> replica = new Replica<>(Codecs.utf8(), Codecs.utf8(), partitions);
    for (int i = 0; i < plain; i++) {
      apply(replica, i % partitions, "key-" + i, "value-" + i + "-" + "x".repeat(i % 300), Op.PUT, false, 0, 0);
    }
    apply(replica, 0, "gone", "v", Op.PUT, false, 0, 0);
    apply(replica, 0, "gone", null, Op.REMOVE, false, 0, 0);
    apply(replica, 0, "expiring", "soon", Op.PUT, false, 0, NOW + 30_000);
    apply(replica, 0, "void", "winner", Op.PUT, false, 0, 0);
    apply(replica, 0, "void", "loser", Op.PUT_IF_ABSENT, true, -1, 0);
    apply(replica, 0, "anchored-tombstone", null, Op.REMOVE, false, 0, 0);
    return replica;
  }

  private void apply(Replica<String, String> replica, int partition, String key, @Nullable String value, Op op,
      boolean conditional, long expected, long deadline) {
    long offset = offsets.merge(partition, 1L, Long::sum) - 1;
    RecordMeta meta = new RecordMeta(op, conditional, expected, deadline, 1, offset, "node-" + partition);
    replica.apply(partition, offset, NOW, key.getBytes(UTF_8), value == null ? null : value.getBytes(UTF_8),
        meta.encode(), NOW);
  }

  /** Bytes from a version 3 file's start to its first leader epoch. */
  private static int headerPrefixLength(byte[] file, int partitions) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(file);
    int at = 8 + 4 + 8;
    at += 2 + (b.getShort(at) & 0xFFFF); // topic
    at += 2 + (b.getShort(at) & 0xFFFF); // topic id
    return at + 4 + 8 * partitions;
  }

  /** The header's length of a version 3 file, its checksum included. */
  private static int headerLength(byte[] file, int partitions) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(file);
    int at = headerPrefixLength(file, partitions) + 4 * partitions + 8;
    int sections = b.getInt(at);
    return at + 4 + 20 * sections + 4;
  }

  /** Recomputes a version 3 file's header checksum after a test changed the header. */
  private static void rewriteHeaderCrc(byte[] file, int partitions) {
    int end = headerLength(file, partitions) - 4;
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(file, 0, end);
    java.nio.ByteBuffer.wrap(file).putInt(end, (int) crc.getValue());
  }

  /** The same snapshot as version 2 wrote it: the header without leader epochs, the sections as they are. */
  private static byte[] asVersion2(byte[] version3, int partitions) {
    int epochsAt = headerPrefixLength(version3, partitions);
    int headerEnd = headerLength(version3, partitions) - 4;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(version3, 0, epochsAt);
    out.write(version3, epochsAt + 4 * partitions, headerEnd - epochsAt - 4 * partitions);
    byte[] header = out.toByteArray();
    java.nio.ByteBuffer.wrap(header).putInt(8, 2);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(header);
    out.reset();
    out.write(header, 0, header.length);
    out.write((int) (crc.getValue() >>> 24));
    out.write((int) (crc.getValue() >>> 16));
    out.write((int) (crc.getValue() >>> 8));
    out.write((int) crc.getValue());
    out.write(version3, headerEnd + 4, version3.length - headerEnd - 4);
    return out.toByteArray();
  }

  /** A file in the previous layout (version 1): one entry, written as version 1 wrote it. */
  private static byte[] version1(String value) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.write("CACHETSN".getBytes(UTF_8));
    out.writeInt(1);
    out.writeLong(NOW);
    out.writeUTF(TOPIC);
    out.writeUTF(TOPIC_ID);
    out.writeInt(1);
    out.writeLong(1);
    out.writeLong(1);
    byte[] key = "k".getBytes(UTF_8);
    out.writeInt(key.length);
    out.write(key);
    out.writeBoolean(true);
    byte[] v = value.getBytes(UTF_8);
    out.writeInt(v.length);
    out.write(v);
    out.writeLong(0);
    out.writeInt(0);
    out.writeLong(0);
    out.writeLong(NOW);
    out.writeBoolean(true);
    out.writeUTF("node");
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bytes.toByteArray());
    out.writeLong(crc.getValue());
    return bytes.toByteArray();
  }
}
