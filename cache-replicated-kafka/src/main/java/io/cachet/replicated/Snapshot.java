package io.cachet.replicated;

import io.cachet.codec.Codec;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A replica saved to a local file: the positions it had reached and every entry it held, so a
 * restart applies only the records written since. Layout: {@code "CACHETSN" version:int
 * writtenAt:long topic:UTF topicId:UTF partitions:int positions:long[] count:long entries crc32:long}; each entry is
 * {@code key:bytes hasValue:byte [value:bytes] deadline:long partition:int offset:long
 * timestamp:long anchored:byte writer:UTF}, bytes as {@code length:int data}.
 */
final class Snapshot {

  private static final byte[] MAGIC = "CACHETSN".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  private Snapshot() {}

  /** A snapshot that cannot be used; the caller replays the whole topic instead. */
  static final class UnusableSnapshotException extends IOException {
    private static final long serialVersionUID = 1L;

    UnusableSnapshotException(String message) {
      super(message);
    }
  }

  /** Writes the replica atomically (a temporary file moved over the old one). Call on the apply thread. */
  static <K, V> long write(Path path, String topic, String topicId, Replica<K, V> replica, Codec<K> keys,
      Codec<V> values, long nowMillis) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path temporary = path.resolveSibling(path.getFileName() + ".tmp");
    long count = 0;
    CRC32 crc = new CRC32();
    try (OutputStream file = Files.newOutputStream(temporary);
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(file, crc), 1 << 16))) {
      out.write(MAGIC);
      out.writeInt(VERSION);
      out.writeLong(nowMillis);
      out.writeUTF(topic);
      out.writeUTF(topicId);
      out.writeInt(replica.partitions());
      for (int p = 0; p < replica.partitions(); p++) {
        out.writeLong(replica.position(p));
      }
      long size = 0;
      for (Map.Entry<K, Entry<V>> ignored : replica.entries()) {
        size++;
      }
      out.writeLong(size);
      for (Map.Entry<K, Entry<V>> e : replica.entries()) {
        Entry<V> entry = e.getValue();
        writeBytes(out, keys.encode(e.getKey()));
        out.writeBoolean(entry.value() != null);
        if (entry.value() != null) {
          writeBytes(out, values.encode(entry.value()));
        }
        out.writeLong(entry.deadline());
        out.writeInt(entry.partition());
        out.writeLong(entry.offset());
        out.writeLong(entry.timestamp());
        out.writeBoolean(entry.anchored());
        out.writeUTF(entry.writer());
        count++;
      }
      out.flush();
      long checksum = crc.getValue();
      out.writeLong(checksum);
    }
    Files.move(temporary, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return count;
  }

  /**
   * Reads a snapshot into an empty replica and returns the positions it reached.
   *
   * @param maxAgeMillis the topic's {@code delete.retention.ms}: an older snapshot may have missed
   *     tombstones the cleaner has since dropped, so it is refused
   * @throws UnusableSnapshotException when the file is corrupt, too old, or belongs to another
   *     topic or layout
   * @throws IOException when the file cannot be read
   */
  static <K, V> long[] read(Path path, String topic, String topicId, Replica<K, V> replica, Codec<K> keys,
      Codec<V> values, long nowMillis, long maxAgeMillis) throws IOException {
    CRC32 crc = new CRC32();
    try (InputStream file = Files.newInputStream(path);
        CheckedInputStream checked = new CheckedInputStream(new BufferedInputStream(file, 1 << 16), crc);
        DataInputStream in = new DataInputStream(checked)) {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new UnusableSnapshotException("not a snapshot file (bad magic)");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new UnusableSnapshotException("snapshot version " + version + ", expected " + VERSION);
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
      if (partitions != replica.partitions()) {
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
      long count = in.readLong();
      if (count < 0) {
        throw new UnusableSnapshotException("negative entry count " + count);
      }
      replica.presize(count);
      for (long i = 0; i < count; i++) {
        K key = keys.decode(readBytes(in));
        V value = in.readBoolean() ? values.decode(readBytes(in)) : null;
        long deadline = in.readLong();
        int partition = in.readInt();
        long offset = in.readLong();
        long timestamp = in.readLong();
        boolean anchored = in.readBoolean();
        String writer = in.readUTF();
        if (partition < 0 || partition >= partitions || offset >= positions[partition]) {
          throw new UnusableSnapshotException("entry at partition " + partition + " offset " + offset
              + " is beyond the snapshot's positions");
        }
        replica.restore(key, Entry.of(value, deadline, partition, offset, timestamp, anchored, writer, nowMillis));
      }
      long expected = crc.getValue();
      long stored = in.readLong();
      if (stored != expected) {
        throw new UnusableSnapshotException("checksum mismatch");
      }
      if (in.read() != -1) {
        throw new UnusableSnapshotException("trailing bytes after the checksum");
      }
      replica.restored();
      for (int p = 0; p < partitions; p++) {
        replica.advance(p, positions[p]);
      }
      return positions;
    } catch (EOFException e) {
      throw new UnusableSnapshotException("truncated");
    } catch (RuntimeException e) {
      throw new UnusableSnapshotException("undecodable: " + e);
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > (1 << 30)) {
      throw new UnusableSnapshotException("bad length " + length);
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return bytes;
  }
}
