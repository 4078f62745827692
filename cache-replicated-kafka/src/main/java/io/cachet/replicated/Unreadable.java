package io.cachet.replicated;

import io.cachet.CacheException;
import io.cachet.codec.Codec;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A value in a record Cachet wrote that this node's codec cannot decode: another node runs a newer
 * codec (a rolling upgrade), or the codec cannot read back what it writes. The record still
 * applies, as it does on every node that can decode it, and the replica keeps this in the key's
 * entry in place of a {@code V}, with the record's bytes:
 * <ul>
 *   <li>a read of the key fails, naming the key and the codec's error, instead of answering with
 *       an older value;
 *   <li>a write that depends on the value ({@code putIfAbsent}, {@code replace}, a compare) is
 *       refused; {@code put}, {@code remove}, {@code expire} and {@code clear} go through;
 *   <li>an anchor or a snapshot restates the bytes as they were written ({@link #encode}), so
 *       this node never writes an older value over it, and a node restarted with the newer codec
 *       reads it from its snapshot.
 * </ul>
 * Never equal to a decoded value; equal to another holding the same bytes. Immutable.
 */
final class Unreadable {

  /** How much of the codec's error message is kept. */
  static final int MAX_ERROR_CHARS = 160;

  private final byte[] bytes;
  private final String error;

  private Unreadable(byte[] bytes, String error) {
    this.bytes = bytes;
    this.error = error;
  }

  /** {@code bytes} decoded by {@code codec}, {@code null} for none, or an {@link Unreadable} holding them. */
  static @Nullable Object decode(Codec<?> codec, byte @Nullable [] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return codec.decode(bytes); // an array of the caller's own: no copy of a range needed
    } catch (RuntimeException e) {
      return new Unreadable(bytes, describe(e));
    }
  }

  /** {@code length} bytes of {@code array} from {@code offset} decoded, or an {@link Unreadable} holding a copy. */
  static Object decode(Codec<?> codec, byte[] array, int offset, int length) {
    try {
      return codec.decode(array, offset, length);
    } catch (RuntimeException e) {
      return new Unreadable(Arrays.copyOfRange(array, offset, offset + length), describe(e));
    }
  }

  /** Returns {@code value}'s bytes: those it was read from if it is {@link Unreadable}, else {@code codec}'s. */
  static <V> byte[] encode(Codec<V> codec, V value) {
    return value instanceof Unreadable unreadable ? unreadable.bytes : codec.encode(value);
  }

  /** Whether {@code value} is one this node cannot read. */
  static boolean is(@Nullable Object value) {
    return value instanceof Unreadable;
  }

  /** Throws if {@code value} is {@link Unreadable}: the error a read or write of {@code key} gets. */
  static void check(@Nullable Object value, String cache, Object key, String doing) {
    if (value instanceof Unreadable unreadable) {
      throw new CacheException("cache '" + cache + "' cannot " + doing + " key '" + key + "': its value was written"
          + " by a node whose value codec this node's cannot read (" + unreadable.error + "); every node's codec must"
          + " read what the others write (see docs/replication.md). A put or remove of the key replaces it", null);
    }
  }

  /** The codec's error, its message cut to {@value #MAX_ERROR_CHARS} characters: it is kept with each such entry. */
  private static String describe(RuntimeException e) {
    String message = e.getMessage();
    String name = e.getClass().getName();
    if (message == null) {
      return name;
    }
    return name + ": " + (message.length() > MAX_ERROR_CHARS ? message.substring(0, MAX_ERROR_CHARS) + "..." : message);
  }

  /** Equal bytes: the same state, as replicas that replayed the same records compare. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Unreadable other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Unreadable[" + bytes.length + " bytes: " + error + "]";
  }
}
