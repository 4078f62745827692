package io.cachet.replicated;

import io.cachet.codec.Codec;
import io.cachet.replicated.SnapshotIo.Input;
import io.cachet.replicated.SnapshotIo.Output;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import org.jspecify.annotations.Nullable;

/**
 * A replica saved to a local file: the positions it had reached and every entry it held, so a
 * restart applies only the records written since.
 *
 * <p>Layout, version 3 (big-endian; {@code UTF} is {@code DataOutput.writeUTF}): a header
 * {@code "CACHETSN" version:int writtenAt:long topic:UTF topicId:UTF partitions:int
 * positions:long[partitions] leaderEpochs:int[partitions] entries:long sections:int}, then per
 * section {@code entries:long
 * bytes:long crc32c:int}, then {@code headerCrc32c:int} over everything before it; then the
 * sections' bytes, one after the other, to the end of the file. A section is a run of entries:
 * {@code kind:byte partition:varint offset:varint key:bytes}, then for kind 0 (a value without a
 * deadline, anchored: most entries) {@code value:bytes}, for kind 1 {@code hasValue:byte
 * [value:bytes] deadline:long timestamp:long anchored:byte writer:bytes(UTF-8)}. Varints are
 * unsigned LEB128; {@code bytes} is a varint length and the data.
 *
 * <p>Why sections: they are independent (own count, length and checksum), so a large snapshot is
 * decoded on as many threads as there are processors, each putting its entries straight into the
 * replica's concurrent map. The file's size must equal the header's plus the sections' lengths,
 * so a truncated or extended file is refused before anything is decoded, and no length read from
 * the file can make a reader allocate or read beyond its section.
 *
 * <p>Why leader epochs: a position is an offset, and offsets are reused when a log is cut back and
 * written again (an unclean leader election, a broker that lost its unflushed tail). Each
 * partition's epoch is the leader epoch of the last record the replica applied there, -1 when
 * unknown; a restart seeks with it, so Kafka's consumer finds such a divergence and the node
 * replays the log instead of trusting the snapshot. Version 2 files, which have no epochs, are
 * still read, as unknown.
 */
final class Snapshot {

  private static final byte[] MAGIC = "CACHETSN".getBytes(StandardCharsets.US_ASCII);
  /**
   * Version 1 stored every entry with its record's timestamp, writer and deadline, in one
   * checksummed run; version 2 had no leader epochs.
   */
  static final int VERSION = 3;
  /** The oldest version read. */
  private static final int OLDEST_READ = 2;
  private static final int PLAIN = 0;
  private static final int FULL = 1;
  /** Entries per section when writing; fewer sections than this many entries each would not pay. */
  static final long ENTRIES_PER_SECTION = 1 << 16;
  private static final int MAX_SECTIONS = 64;
  /** Refuses headers claiming absurd sizes before allocating for them. */
  private static final int MAX_PARTITIONS = 1 << 20;

  private Snapshot() {}

  /** A snapshot that cannot be used; the caller replays the whole topic instead. */
  static final class UnusableSnapshotException extends IOException {
    private static final long serialVersionUID = 1L;

    UnusableSnapshotException(String message) {
      super(message);
    }

    UnusableSnapshotException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Entries copied between two calls of a freeze's progress callback. */
  static final int PROGRESS_EVERY = 4096;

  /** One section's place in the file. */
  private record Section(long entries, long start, long bytes, int crc) {}

  /**
   * The replica as of one moment: its entries (immutable objects) and positions, copied on the
   * apply thread so that another thread can encode and write them while records go on being applied.
   * Written once: {@link #write} lets go of each entry as it writes it.
   */
  static final class Frozen<K, V> {
    private final Object[] keys;
    private final Object[] entries;
    private final int size;
    private final long[] positions;
    private final int[] leaderEpochs;

    private Frozen(Object[] keys, Object[] entries, int size, long[] positions, int[] leaderEpochs) {
      this.keys = keys;
      this.entries = entries;
      this.size = size;
      this.positions = positions;
      this.leaderEpochs = leaderEpochs;
    }

    /** Number of entries. */
    int size() {
      return size;
    }
  }

  /**
   * Copies the replica's entries, positions and leader epochs: on the apply thread, or wherever nothing applies
   * records meanwhile; runs {@code progress} every {@value #PROGRESS_EVERY} entries.
   */
  static <K, V> Frozen<K, V> freeze(Replica<K, V> replica, Runnable progress) {
    long[] positions = new long[replica.partitions()];
    int[] leaderEpochs = new int[positions.length];
    for (int p = 0; p < positions.length; p++) {
      positions[p] = replica.position(p);
      leaderEpochs[p] = replica.leaderEpoch(p);
    }
    int capacity = (int) Math.min(Integer.MAX_VALUE - 8, replica.entryCount() + 16L);
    Object[][] arrays = {new Object[capacity], new Object[capacity]};
    int[] size = {0};
    replica.forEachEntry((key, entry) -> {
      int i = size[0];
      if (i == arrays[0].length) { // a snapshot loaded before the count caught up, say: grow
        int length = (int) Math.min(Integer.MAX_VALUE - 8, 2L * i + 16);
        arrays[0] = Arrays.copyOf(arrays[0], length);
        arrays[1] = Arrays.copyOf(arrays[1], length);
      }
      arrays[0][i] = key;
      arrays[1][i] = entry;
      size[0] = i + 1;
      if (size[0] % PROGRESS_EVERY == 0) {
        progress.run();
      }
    });
    return new Frozen<>(arrays[0], arrays[1], size[0], positions, leaderEpochs);
  }

  /** Writes the replica atomically (a temporary file moved over the old one). Call on the apply thread. */
  static <K, V> long write(Path path, String topic, String topicId, Replica<K, V> replica, Codec<K> keys,
      Codec<V> values, long nowMillis) throws IOException {
    return write(path, topic, topicId, freeze(replica, () -> { }), keys, values, nowMillis, ENTRIES_PER_SECTION);
  }

  /** Writes the replica as above, in sections of about {@code entriesPerSection} entries (tests use small ones). */
  static <K, V> long write(Path path, String topic, String topicId, Replica<K, V> replica, Codec<K> keys,
      Codec<V> values, long nowMillis, long entriesPerSection) throws IOException {
    return write(path, topic, topicId, freeze(replica, () -> { }), keys, values, nowMillis, entriesPerSection);
  }

  /**
   * Writes a frozen replica atomically, in sections of about {@code entriesPerSection} entries; any
   * thread. The file is forced to disk before it is moved over the old one, and a failure deletes
   * the temporary file.
   */
  static <K, V> long write(Path path, String topic, String topicId, Frozen<K, V> replica, Codec<K> keys,
      Codec<V> values, long nowMillis, long entriesPerSection) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path temporary = path.resolveSibling(path.getFileName() + ".tmp");
    long size = replica.size;
    int sectionCount = (int) Math.max(1, Math.min(MAX_SECTIONS, (size + entriesPerSection - 1) / entriesPerSection));
    long perSection = Math.max(1, (size + sectionCount - 1) / sectionCount);
    long[] positions = replica.positions;
    int[] leaderEpochs = replica.leaderEpochs;
    Section[] sections = new Section[sectionCount];
    Arrays.fill(sections, new Section(0, 0, 0, 0));
    int headerLength = header(nowMillis, topic, topicId, positions, leaderEpochs, 0, sections).length;
    long count = 0;
    boolean moved = false;
    try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.position(headerLength);
      Output out = new Output(channel);
      int section = 0;
      long inSection = 0;
      long start = headerLength;
      for (int i = 0; i < replica.size; i++) {
        if (inSection == perSection && section < sectionCount - 1) {
          long bytes = out.flush();
          sections[section++] = new Section(inSection, start, bytes, out.crc());
          start += bytes;
          out.restart();
          inSection = 0;
        }
        @SuppressWarnings("unchecked")
        K key = (K) replica.keys[i];
        @SuppressWarnings("unchecked")
        Entry<V> entry = (Entry<V>) replica.entries[i];
        replica.keys[i] = null; // written: a value replaced meanwhile need not outlive the write
        replica.entries[i] = null;
        writeEntry(out, keys.encode(key), entry, values);
        inSection++;
        count++;
      }
      long bytes = out.flush();
      sections[section] = new Section(inSection, start, bytes, out.crc());
      ByteBuffer header = ByteBuffer.wrap(header(nowMillis, topic, topicId, positions, leaderEpochs, count, sections));
      while (header.hasRemaining()) {
        channel.write(header, header.position());
      }
      channel.force(true); // on disk before the rename makes it the snapshot: a crash then keeps the old one
      channel.close();
      Files.move(temporary, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      moved = true;
    } finally {
      if (!moved) {
        Files.deleteIfExists(temporary); // a failed save leaves no partial copy of the replica behind
      }
    }
    syncDirectory(path.toAbsolutePath().getParent());
    return count;
  }

  /** Makes a rename in {@code directory} durable where the platform allows opening a directory (POSIX). */
  private static void syncDirectory(@Nullable Path directory) {
    if (directory == null) {
      return;
    }
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException | RuntimeException e) {
      // Not every platform opens directories (Windows): the rename is then as durable as it gets.
    }
  }

  private static <V> void writeEntry(Output out, byte[] key, Entry<V> entry, Codec<V> values) throws IOException {
    boolean plain = entry instanceof Entry.Plain;
    out.writeByte(plain ? PLAIN : FULL);
    out.writeVarLong(entry.partition());
    out.writeVarLong(entry.offset());
    out.writeBytes(key);
    if (plain) {
      out.writeBytes(Unreadable.encode(values, entry.value()));
      return;
    }
    out.writeByte(entry.value() != null ? 1 : 0);
    if (entry.value() != null) {
      out.writeBytes(Unreadable.encode(values, entry.value()));
    }
    out.writeLong(entry.deadline());
    out.writeLong(entry.timestamp());
    out.writeByte(entry.anchored() ? 1 : 0);
    out.writeBytes(entry.writer().getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] header(long writtenAt, String topic, String topicId, long[] positions, int[] leaderEpochs,
      long entries, Section[] sections) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.write(MAGIC);
    out.writeInt(VERSION);
    out.writeLong(writtenAt);
    out.writeUTF(topic);
    out.writeUTF(topicId);
    out.writeInt(positions.length);
    for (long position : positions) {
      out.writeLong(position);
    }
    for (int epoch : leaderEpochs) {
      out.writeInt(epoch);
    }
    out.writeLong(entries);
    out.writeInt(sections.length);
    for (Section s : sections) {
      out.writeLong(s.entries());
      out.writeLong(s.bytes());
      out.writeInt(s.crc());
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes.toByteArray());
    out.writeInt((int) crc.getValue());
    return bytes.toByteArray();
  }

  /**
   * Reads a snapshot into an empty replica, positions and leader epochs included, and returns the
   * positions it reached. Large snapshots
   * are decoded on several threads at once (one per processor, at most one per section).
   *
   * @param maxAgeMillis the topic's {@code delete.retention.ms}: an older snapshot may have missed
   *     tombstones the cleaner has since dropped, so it is refused
   * @throws UnusableSnapshotException when the file is corrupt, truncated, too old, of another
   *     format version, belongs to another topic, or holds a key the key codec fails on (whatever
   *     it throws), or a value the value codec fails on with an {@link Error} or a checked
   *     exception thrown around the compiler (a value it refuses with a {@code RuntimeException}
   *     is kept as an {@link Unreadable}); the replica may then hold part of it and must be
   *     discarded
   * @throws IOException when the file cannot be read
   */
  static <K, V> long[] read(Path path, String topic, String topicId, Replica<K, V> replica, Codec<K> keys,
      Codec<V> values, long nowMillis, long maxAgeMillis) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      CRC32C crc = new CRC32C();
      Counting counted = new Counting(new BufferedInputStream(Channels.newInputStream(channel), 1 << 16));
      DataInputStream in = new DataInputStream(new CheckedInputStream(counted, crc));
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new UnusableSnapshotException("not a snapshot file (bad magic)");
      }
      int version = in.readInt();
      if (version < OLDEST_READ || version > VERSION) {
        throw new UnusableSnapshotException("snapshot format version " + version + ", this version reads "
            + OLDEST_READ + " to " + VERSION);
      }
      long writtenAt = in.readLong();
      if (nowMillis - writtenAt > maxAgeMillis) {
        throw new UnusableSnapshotException("snapshot written at " + java.time.Instant.ofEpochMilli(writtenAt)
            + " is older than the topic's delete.retention.ms (" + maxAgeMillis + " ms): tombstones written since"
            + " may have been dropped");
      }
      String snapshotTopic = in.readUTF();
      if (!snapshotTopic.equals(topic)) {
        throw new UnusableSnapshotException("snapshot of topic '" + snapshotTopic + "', not '" + topic + "'");
      }
      String snapshotTopicId = in.readUTF();
      if (!snapshotTopicId.equals(topicId)) {
        throw new UnusableSnapshotException("snapshot of an earlier topic '" + topic + "' (id " + snapshotTopicId
            + ", now " + topicId + "): it was deleted and recreated");
      }
      int partitions = in.readInt();
      if (partitions != replica.partitions() || partitions > MAX_PARTITIONS) {
        throw new UnusableSnapshotException(
            "snapshot has " + partitions + " partition(s), the topic " + replica.partitions());
      }
      long[] positions = new long[partitions];
      for (int p = 0; p < partitions; p++) {
        positions[p] = in.readLong();
        if (positions[p] < 0) {
          throw new UnusableSnapshotException("negative position " + positions[p]);
        }
      }
      int[] leaderEpochs = new int[partitions];
      Arrays.fill(leaderEpochs, -1); // version 2: unknown
      for (int p = 0; version > 2 && p < partitions; p++) {
        leaderEpochs[p] = in.readInt();
        if (leaderEpochs[p] < -1) {
          throw new UnusableSnapshotException("bad leader epoch " + leaderEpochs[p]);
        }
      }
      long count = in.readLong();
      int sectionCount = in.readInt();
      if (count < 0 || sectionCount < 1 || sectionCount > MAX_SECTIONS) {
        throw new UnusableSnapshotException("bad entry count " + count + " or section count " + sectionCount);
      }
      long[][] table = new long[sectionCount][];
      int[] crcs = new int[sectionCount];
      for (int s = 0; s < sectionCount; s++) {
        table[s] = new long[] {in.readLong(), in.readLong()};
        crcs[s] = in.readInt();
      }
      int expectedHeaderCrc = (int) crc.getValue();
      if (in.readInt() != expectedHeaderCrc) {
        throw new UnusableSnapshotException("header checksum mismatch");
      }
      List<Section> sections = new ArrayList<>(sectionCount);
      long start = counted.count();
      long entries = 0;
      for (int s = 0; s < sectionCount; s++) {
        if (table[s][0] < 0 || table[s][1] < 0) {
          throw new UnusableSnapshotException("bad section " + s);
        }
        sections.add(new Section(table[s][0], start, table[s][1], crcs[s]));
        start += table[s][1];
        entries += table[s][0];
      }
      long fileSize = channel.size();
      if (fileSize < start) {
        throw new UnusableSnapshotException("truncated: " + fileSize + " bytes, the header promises " + start);
      }
      if (fileSize > start) {
        throw new UnusableSnapshotException("trailing bytes: " + fileSize + " bytes, the header promises " + start);
      }
      if (entries != count) {
        throw new UnusableSnapshotException("sections hold " + entries + " entries, the header says " + count);
      }
      replica.presize(count);
      new Loader<>(channel, replica, keys, values, positions, nowMillis, sections).run();
      replica.restored();
      for (int p = 0; p < partitions; p++) {
        replica.advance(p, positions[p]);
        replica.leaderEpoch(p, leaderEpochs[p]);
      }
      return positions;
    } catch (EOFException e) {
      throw new UnusableSnapshotException("truncated");
    } catch (java.io.UTFDataFormatException e) {
      throw new UnusableSnapshotException("undecodable header: " + e.getMessage());
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) { // a codec's failure, an Error or a checked exception thrown around the compiler included
      throw new UnusableSnapshotException("undecodable: " + t, t);
    }
  }

  /** Decodes the sections into the replica, on up to one thread per processor. */
  private static final class Loader<K, V> {

    private final FileChannel channel;
    private final Replica<K, V> replica;
    private final Codec<K> keys;
    private final Codec<V> values;
    private final long[] positions;
    private final long nowMillis;
    private final List<Section> sections;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong restored = new AtomicLong();
    /** Entries other than plain ones: restored on the calling thread afterwards (few, and they need more bookkeeping). */
    private final List<Map.Entry<K, Entry<V>>> others = new ArrayList<>();

    Loader(FileChannel channel, Replica<K, V> replica, Codec<K> keys, Codec<V> values, long[] positions,
        long nowMillis, List<Section> sections) {
      this.channel = channel;
      this.replica = replica;
      this.keys = keys;
      this.values = values;
      this.positions = positions;
      this.nowMillis = nowMillis;
      this.sections = sections;
    }

    void run() throws IOException {
      int threads = Math.min(sections.size(), Runtime.getRuntime().availableProcessors());
      List<Thread> helpers = new ArrayList<>();
      for (int i = 1; i < threads; i++) {
        Thread t = new Thread(this::work, "cachet-snapshot-load-" + i);
        t.setDaemon(true);
        t.start();
        helpers.add(t);
      }
      work();
      boolean interrupted = false;
      for (Thread t : helpers) {
        while (true) {
          try {
            t.join();
            break;
          } catch (InterruptedException e) {
            interrupted = true;
            failure.compareAndSet(null, new InterruptedIOException("interrupted while loading the snapshot"));
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      Throwable t = failure.get();
      if (t instanceof IOException e) {
        throw e;
      } else if (t != null) {
        // Whatever stopped a thread (a codec's Error, or a checked exception thrown around the
        // compiler) left sections unread: the file cannot be used.
        throw new UnusableSnapshotException("undecodable: " + t, t);
      }
      for (Map.Entry<K, Entry<V>> e : others) {
        if (replica.get(e.getKey()) != null) {
          throw new UnusableSnapshotException("a key appears twice");
        }
        replica.restore(e.getKey(), e.getValue());
      }
      replica.restoredPresent(restored.get());
    }

    private void work() {
      try {
        for (int s = next.getAndIncrement(); s < sections.size() && failure.get() == null; s = next.getAndIncrement()) {
          load(sections.get(s));
        }
      } catch (Throwable t) {
        failure.compareAndSet(null, t instanceof EOFException ? new UnusableSnapshotException("truncated") : t);
      }
    }

    private void load(Section section) throws IOException {
      Input in = new Input(channel, section.start(), section.bytes());
      long present = 0;
      List<Map.Entry<K, Entry<V>>> full = new ArrayList<>();
      for (long i = 0; i < section.entries(); i++) {
        int kind = in.readByte();
        int partition = in.readVarInt(positions.length - 1, "partition");
        long offset = in.readVarLong();
        if (offset < 0 || offset >= positions[partition]) {
          throw new UnusableSnapshotException("entry at partition " + partition + " offset " + offset
              + " is beyond the snapshot's positions");
        }
        K key = in.read(keys);
        if (kind == PLAIN) {
          V value = in.readValue(values);
          if (!replica.restoreConcurrently(key, Entry.of(value, 0, partition, offset, 0, true, "", nowMillis))) {
            throw new UnusableSnapshotException("a key appears twice");
          }
          present++;
        } else if (kind == FULL) {
          V value = in.readByte() != 0 ? in.readValue(values) : null;
          long deadline = in.readLong();
          long timestamp = in.readLong();
          boolean anchored = in.readByte() != 0;
          String writer = new String(in.readBytes(), StandardCharsets.UTF_8);
          full.add(Map.entry(key, Entry.of(value, deadline, partition, offset, timestamp, anchored, writer, nowMillis)));
        } else {
          throw new UnusableSnapshotException("unknown entry kind " + kind);
        }
      }
      if (in.finish() != section.crc()) {
        throw new UnusableSnapshotException("checksum mismatch");
      }
      restored.addAndGet(present);
      synchronized (others) {
        others.addAll(full);
      }
    }
  }

  /** Counts the bytes read through it: the header's length. */
  private static final class Counting extends FilterInputStream {

    private long count;

    Counting(InputStream in) {
      super(in);
    }

    long count() {
      return count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
