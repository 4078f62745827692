package io.cachet.replicated;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The metadata every record carries in its {@value #HEADER} header; the record's key is the
 * encoded cache key and its value the encoded cache value ({@code null} for a tombstone).
 *
 * <p>Layout, version 1, big-endian: {@code version:byte op:byte flags:byte expected:long
 * deadline:long session:long request:long nodeIdLength:short nodeId:UTF-8}. {@code flags} bit 0
 * marks a conditional record: it applies only if the key's latest record is at an offset no higher
 * than {@code expected}. {@code deadline} is the absolute expiry in epoch milliseconds, 0 for none.
 *
 * @param op the operation that produced the record (informational: the effect is the content)
 * @param conditional whether the record applies only while the key is unchanged since {@code expected}
 * @param expected the offset of the key's latest record that the writer saw (or, for a key it did not
 *     know, the last offset it had applied in the partition)
 * @param deadline absolute expiry of the value, epoch ms; 0 for none
 * @param session the writing cache instance (random per start), so replies never reach a later instance
 * @param request the writer's request number within its session
 * @param nodeId the writing node's id
 */
record RecordMeta(Op op, boolean conditional, long expected, long deadline, long session, long request, String nodeId) {

  /** The header holding the metadata. */
  static final String HEADER = "cachet";
  /** The current layout version. */
  static final byte VERSION = 1;

  private static final int FIXED_BYTES = 3 + 4 * Long.BYTES + Short.BYTES;

  /** What produced a record. */
  enum Op {
    PUT(1),
    REMOVE(2),
    PUT_IF_ABSENT(3),
    REPLACE(4),
    REPLACE_IF_EQUAL(5),
    REMOVE_IF_EQUAL(6),
    EXPIRE(7),
    /** Restates a key's state after a record that left it unanchored. */
    ANCHOR(8),
    /** Removes an entry whose deadline passed, so the compacted topic can drop it. */
    EXPIRED(9),
    CLEAR(10);

    final byte code;

    Op(int code) {
      this.code = (byte) code;
    }

    /** Indexed by code; {@code values()} would copy the array for every record. */
    private static final @Nullable Op[] BY_CODE = new Op[11];

    static {
      for (Op op : values()) {
        BY_CODE[op.code] = op;
      }
    }

    static @Nullable Op of(byte code) {
      return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
  }

  /** The last node id decoded: records mostly come in runs from few writers, and entries keep the id. */
  private static volatile String lastNodeId = "";

  private static String nodeId(byte[] bytes, int from, int length) {
    String last = lastNodeId;
    if (last.length() == length) {
      boolean same = true;
      for (int i = 0; i < length && same; i++) {
        same = last.charAt(i) == bytes[from + i];
      }
      if (same) {
        return last;
      }
    }
    String decoded = new String(bytes, from, length, UTF_8);
    lastNodeId = decoded;
    return decoded;
  }

  byte[] encode() {
    byte[] node = nodeId.getBytes(UTF_8);
    ByteBuffer buffer = ByteBuffer.allocate(FIXED_BYTES + node.length);
    buffer.put(VERSION).put(op.code).put((byte) (conditional ? 1 : 0));
    buffer.putLong(expected).putLong(deadline).putLong(session).putLong(request);
    buffer.putShort((short) node.length).put(node);
    return buffer.array();
  }

  /** Decodes a header value; {@code null} when it is not a version-1 metadata header. */
  static @Nullable RecordMeta decode(byte @Nullable [] bytes) {
    // Read in place: one object per record (the metadata itself), whatever the JIT makes of a buffer.
    if (bytes == null || bytes.length < FIXED_BYTES || bytes[0] != VERSION) {
      return null;
    }
    Op op = Op.of(bytes[1]);
    byte flags = bytes[2];
    long expected = getLong(bytes, 3);
    long deadline = getLong(bytes, 11);
    long session = getLong(bytes, 19);
    long request = getLong(bytes, 27);
    int length = (short) (((bytes[35] & 0xFF) << 8) | (bytes[36] & 0xFF));
    if (op == null || (flags & ~1) != 0 || deadline < 0 || length < 0 || length != bytes.length - FIXED_BYTES) {
      return null;
    }
    return new RecordMeta(op, (flags & 1) != 0, expected, deadline, session, request,
        nodeId(bytes, FIXED_BYTES, length));
  }

  private static long getLong(byte[] bytes, int from) {
    long v = 0;
    for (int i = from; i < from + Long.BYTES; i++) {
      v = (v << 8) | (bytes[i] & 0xFF);
    }
    return v;
  }
}
