package io.cachet.replicated;

import io.cachet.codec.Codec;
import io.cachet.replicated.Snapshot.UnusableSnapshotException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Buffered, checksummed reading and writing of one section of a snapshot file: fixed-width
 * big-endian longs, unsigned LEB128 varints and length-prefixed byte strings. A reader never reads
 * past its section's end and never allocates more than its section holds, whatever lengths a
 * damaged file claims.
 */
final class SnapshotIo {

  /** Buffer size of a section reader or writer. */
  static final int BUFFER = 1 << 20;

  private SnapshotIo() {}

  /** Writes through a buffer to a channel at its current position, keeping a CRC-32C of the bytes. */
  static final class Output {

    private final FileChannel channel;
    private final byte[] buffer = new byte[BUFFER];
    private final ByteBuffer wrapped = ByteBuffer.wrap(buffer);
    private final CRC32C crc = new CRC32C();
    private int used;
    private long written;

    Output(FileChannel channel) {
      this.channel = channel;
    }

    void writeByte(int b) throws IOException {
      room(1);
      buffer[used++] = (byte) b;
    }

    void writeLong(long v) throws IOException {
      room(Long.BYTES);
      for (int shift = 56; shift >= 0; shift -= 8) {
        buffer[used++] = (byte) (v >>> shift);
      }
    }

    /** Writes {@code v} (taken as unsigned) as LEB128: 7 bits a byte, low bits first. */
    void writeVarLong(long v) throws IOException {
      room(10);
      while ((v & ~0x7FL) != 0) {
        buffer[used++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buffer[used++] = (byte) v;
    }

    /** Writes the length as a varint, then the bytes. */
    void writeBytes(byte[] bytes) throws IOException {
      writeVarLong(bytes.length);
      if (bytes.length <= buffer.length - used) {
        System.arraycopy(bytes, 0, buffer, used, bytes.length);
        used += bytes.length;
      } else {
        flush();
        drain(ByteBuffer.wrap(bytes));
      }
    }

    private void room(int bytes) throws IOException {
      if (buffer.length - used < bytes) {
        flush();
      }
    }

    /** Writes out what is buffered; returns the bytes written so far. */
    long flush() throws IOException {
      wrapped.clear().limit(used);
      drain(wrapped);
      used = 0;
      return written;
    }

    private void drain(ByteBuffer bytes) throws IOException {
      crc.update(bytes.duplicate());
      written += bytes.remaining();
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
    }

    /** The CRC-32C of every byte written so far (flush first). */
    int crc() {
      return (int) crc.getValue();
    }

    /** Starts a new section: the byte count and the CRC start again (flush first). */
    void restart() {
      crc.reset();
      written = 0;
    }
  }

  /** Reads one section of a file with positional reads, so several readers can share a channel. */
  static final class Input {

    private final FileChannel channel;
    private final byte[] buffer;
    private final ByteBuffer wrapped;
    private final CRC32C crc = new CRC32C();
    /** File position of the next byte to read into the buffer. */
    private long filePosition;
    /** File position where the section ends. */
    private final long end;
    private int position;
    private int limit;

    Input(FileChannel channel, long start, long length) {
      this.channel = channel;
      this.filePosition = start;
      this.end = start + length;
      this.buffer = new byte[(int) Math.min(BUFFER, Math.max(length, 16))];
      this.wrapped = ByteBuffer.wrap(buffer);
    }

    /** Returns the bytes of this section not yet consumed. */
    long remaining() {
      return end - filePosition + (limit - position);
    }

    int readByte() throws IOException {
      need(1);
      return buffer[position++] & 0xFF;
    }

    long readLong() throws IOException {
      need(Long.BYTES);
      long v = 0;
      for (int i = 0; i < Long.BYTES; i++) {
        v = (v << 8) | (buffer[position++] & 0xFF);
      }
      return v;
    }

    long readVarLong() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = readByte();
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw new UnusableSnapshotException("malformed varint");
    }

    /** Reads a varint that must lie in {@code 0..max}. */
    int readVarInt(int max, String what) throws IOException {
      long v = readVarLong();
      if (v < 0 || v > max) {
        throw new UnusableSnapshotException("bad " + what + " " + v);
      }
      return (int) v;
    }

    /**
     * Reads a length-prefixed byte string and decodes it with {@code codec}, in place in the
     * buffer when it fits there (no array of its own: one copy less per key and value).
     */
    <T> T read(Codec<T> codec) throws IOException {
      long length = readVarLong();
      if (length < 0 || length > remaining()) {
        throw new UnusableSnapshotException("length " + length + " overruns its section");
      }
      if (length > buffer.length) {
        return codec.decode(readBytes((int) length));
      }
      need((int) length);
      T value = codec.decode(buffer, position, (int) length);
      position += (int) length;
      return value;
    }

    /**
     * Reads a length-prefixed value as {@link #read} does, but bytes {@code codec} refuses come
     * back as an {@link Unreadable} holding them, as they do from the log.
     */
    @SuppressWarnings("unchecked") // an Unreadable stands in for a V: see Unreadable
    <T> T readValue(Codec<T> codec) throws IOException {
      long length = readVarLong();
      if (length < 0 || length > remaining()) {
        throw new UnusableSnapshotException("length " + length + " overruns its section");
      }
      if (length > buffer.length) {
        return (T) Unreadable.decode(codec, readBytes((int) length));
      }
      need((int) length);
      T value = (T) Unreadable.decode(codec, buffer, position, (int) length);
      position += (int) length;
      return value;
    }

    /** Reads a length-prefixed byte string into an array of its own. */
    byte[] readBytes() throws IOException {
      long length = readVarLong();
      if (length < 0 || length > remaining()) {
        throw new UnusableSnapshotException("length " + length + " overruns its section");
      }
      return readBytes((int) length);
    }

    /** Reads {@code length} bytes, known to lie within the section, into an array of their own. */
    private byte[] readBytes(int length) throws IOException {
      byte[] bytes = new byte[length];
      int buffered = Math.min(limit - position, bytes.length);
      System.arraycopy(buffer, position, bytes, 0, buffered);
      position += buffered;
      if (buffered < bytes.length) {
        // Larger than what is buffered: read the rest straight into the array.
        ByteBuffer rest = ByteBuffer.wrap(bytes, buffered, bytes.length - buffered);
        while (rest.hasRemaining()) {
          int n = channel.read(rest, filePosition);
          if (n < 0) {
            throw new EOFException();
          }
          crc.update(bytes, rest.position() - n, n);
          filePosition += n;
        }
      }
      return bytes;
    }

    private void need(int bytes) throws IOException {
      if (limit - position >= bytes) {
        return;
      }
      System.arraycopy(buffer, position, buffer, 0, limit - position);
      limit -= position;
      position = 0;
      while (limit < bytes) {
        long left = end - filePosition;
        if (left <= 0) {
          throw new UnusableSnapshotException("an entry overruns its section");
        }
        wrapped.clear().position(limit).limit((int) Math.min(buffer.length, limit + left));
        int n = channel.read(wrapped, filePosition);
        if (n < 0) {
          throw new EOFException();
        }
        crc.update(buffer, limit, n);
        filePosition += n;
        limit += n;
      }
    }

    /** Returns the CRC-32C of the section, once every byte of it is consumed. */
    int finish() throws IOException {
      if (remaining() != 0) {
        throw new UnusableSnapshotException(remaining() + " byte(s) left over in a section");
      }
      return (int) crc.getValue();
    }
  }
}
