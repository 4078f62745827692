package io.cachet.codec;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/** The built-in codecs. */
public final class Codecs {

  private Codecs() {}

  /**
   * Returns the codec for strings as UTF-8. Both ways are strict: encoding rejects a string with
   * an unpaired surrogate (which UTF-8 cannot represent, and which would otherwise become {@code ?},
   * the same bytes as another string), naming its index; decoding rejects malformed UTF-8,
   * including overlong forms.
   */
  public static Codec<String> utf8() {
    return Utf8Codec.INSTANCE;
  }

  /**
   * Returns the identity codec for byte arrays: the array is copied neither way, except when a
   * range of a larger buffer is decoded (the caller may reuse that buffer).
   */
  public static Codec<byte[]> bytes() {
    return BytesCodec.INSTANCE;
  }

  /**
   * Returns a codec using Java serialization, resolving classes through {@code classLoader}.
   *
   * <p>Only decode bytes this codec produced: Java deserialization of untrusted bytes is unsafe, and
   * on a remote backend anyone who can write to the Redis server or the Kafka topic writes the
   * bytes this codec reads. The codec sets no deserialization filter of its own (it cannot know
   * which classes a value's object graph holds); the JVM-wide one ({@code -Djdk.serialFilter=...})
   * applies, and is the place to allow only the application's classes. Prefer
   * {@link #json(Class)} for remote backends.
   */
  public static Codec<Serializable> javaSerialization(ClassLoader classLoader) {
    return new JavaSerializationCodec<>(Serializable.class, requireNonNull(classLoader, "classLoader"));
  }

  /**
   * Returns a codec using Java serialization for values of {@code type}, resolving classes through
   * the type's class loader, or for a JDK type (a {@code HashMap} of the application's objects)
   * through the thread's context class loader when the codec is made (an application server's or
   * a development tool's own loader); decoding bytes of another type fails with a
   * {@link CodecException}.
   *
   * <p>The type is checked after the object graph was read, so it guards against mixed-up data,
   * not against hostile bytes: the warning on {@link #javaSerialization(ClassLoader)} applies.
   */
  public static <T> Codec<T> javaSerialization(Class<T> type) {
    requireNonNull(type, "type");
    ClassLoader loader = type.getClassLoader();
    if (loader == null) { // a JDK type: its elements are the application's
      ClassLoader context = Thread.currentThread().getContextClassLoader();
      loader = context != null ? context : Codecs.class.getClassLoader();
    }
    return new JavaSerializationCodec<>(type, loader);
  }

  /**
   * Returns the codec named {@code name} in a configuration: {@code string}, {@code bytes},
   * {@code java} (any serializable value), {@code java:<class name>} (values of that class,
   * loaded through {@code classLoader}) or {@code json:<class name>} (values of that class as JSON,
   * as by {@link #json(Class)}; needs Jackson on the class path).
   *
   * @throws IllegalArgumentException naming {@code option} if the name is unknown
   */
  public static Codec<?> named(String option, String name, ClassLoader classLoader) {
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.startsWith("json:")) {
      Class<?> type = io.cachet.internal.OptionValues.parseClass(option, name.substring(5).trim(), classLoader);
      requireJackson(option);
      return json(type);
    }
    if (lower.startsWith("java:")) {
      Class<?> type = io.cachet.internal.OptionValues.parseClass(option, name.substring(5).trim(), classLoader);
      return new JavaSerializationCodec<>(type, classLoader);
    }
    return switch (lower) {
      case "string", "utf8", "utf-8" -> utf8();
      case "bytes" -> bytes();
      case "java" -> javaSerialization(classLoader);
      default ->
          throw new IllegalArgumentException(
              option + " must be one of string, bytes, java, java:<class name>, json:<class name>; was '"
                  + name + "'");
    };
  }

  private enum Utf8Codec implements Codec<String> {
    INSTANCE;

    @Override
    public byte[] encode(String value) {
      int bad = unpairedSurrogate(value);
      if (bad >= 0) {
        throw new CodecException(
            "cannot encode as UTF-8: unpaired surrogate U+" + Integer.toHexString(value.charAt(bad)).toUpperCase(Locale.ROOT)
                + " at index " + bad + " of a string of length " + value.length(),
            null);
      }
      return value.getBytes(StandardCharsets.UTF_8);
    }

    /** Returns the index of the first surrogate that is not half of a pair, or -1. */
    private static int unpairedSurrogate(String value) {
      for (int i = 0, n = value.length(); i < n; i++) {
        char c = value.charAt(i);
        if (Character.isSurrogate(c)) {
          if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))) {
            i++;
          } else {
            return i;
          }
        }
      }
      return -1;
    }

    @Override
    public String decode(byte[] bytes) {
      return decode(bytes, 0, bytes.length);
    }

    @Override
    public String decode(byte[] bytes, int offset, int length) {
      Objects.checkFromIndexSize(offset, length, bytes.length);
      if (isAscii(bytes, offset, length)) {
        // ASCII is valid UTF-8 as it is; skips building a strict decoder (the common case).
        return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
      }
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes, offset, length))
            .toString();
      } catch (CharacterCodingException e) {
        throw new CodecException("not valid UTF-8 (" + length + " bytes)", e);
      }
    }

    private static boolean isAscii(byte[] bytes, int offset, int length) {
      for (int i = offset, end = offset + length; i < end; i++) {
        if (bytes[i] < 0) {
          return false;
        }
      }
      return true;
    }

    @Override
    public Class<String> type() {
      return String.class;
    }

    @Override
    public String toString() {
      return "Codecs.utf8()";
    }
  }

  private enum BytesCodec implements Codec<byte[]> {
    INSTANCE;

    @Override
    public byte[] encode(byte[] value) {
      return value;
    }

    @Override
    public byte[] decode(byte[] bytes) {
      return bytes;
    }

    @Override
    public byte[] decode(byte[] bytes, int offset, int length) {
      Objects.checkFromIndexSize(offset, length, bytes.length);
      return Arrays.copyOfRange(bytes, offset, offset + length); // never the caller's array
    }

    @Override
    public Class<byte[]> type() {
      return byte[].class;
    }

    @Override
    public String toString() {
      return "Codecs.bytes()";
    }
  }

  private static final class JavaSerializationCodec<T> implements Codec<T> {

    private final Class<T> type;
    private final ClassLoader classLoader;

    JavaSerializationCodec(Class<T> type, ClassLoader classLoader) {
      this.type = type;
      this.classLoader = classLoader;
    }

    @Override
    public byte[] encode(T value) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(value);
      } catch (IOException e) {
        throw new CodecException("cannot serialize a " + value.getClass().getName(), e);
      }
      return bytes.toByteArray();
    }

    @Override
    public T decode(byte[] bytes) {
      Object value;
      try (ObjectInputStream in = new LoaderObjectInputStream(new ByteArrayInputStream(bytes), classLoader)) {
        value = in.readObject();
      } catch (IOException | ClassNotFoundException e) {
        throw new CodecException("cannot deserialize " + bytes.length + " bytes", e);
      }
      if (!type.isInstance(value)) {
        throw new CodecException(
            "expected a " + type.getName() + " but " + bytes.length + " bytes hold a "
                + (value == null ? "null" : value.getClass().getName()),
            null);
      }
      return type.cast(value);
    }

    @Override
    public Class<T> type() {
      return type;
    }

    @Override
    public String toString() {
      return "Codecs.javaSerialization(" + type.getName() + ")";
    }
  }

  private static final class LoaderObjectInputStream extends ObjectInputStream {

    private final ClassLoader classLoader;

    LoaderObjectInputStream(InputStream in, ClassLoader classLoader) throws IOException {
      super(in);
      this.classLoader = classLoader;
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
      try {
        return Class.forName(desc.getName(), false, classLoader);
      } catch (ClassNotFoundException e) {
        return super.resolveClass(desc);
      }
    }
  }

  /**
   * Returns a codec writing values of {@code type} as JSON with Jackson, the choice for objects on
   * remote backends: the bytes are readable by any client, and decoding only ever creates a
   * {@code type} (no class names are read from the data).
   *
   * <p>The mapper registers the Jackson modules found on the class path (such as
   * {@code jackson-datatype-jsr310} for {@code java.time}) and ignores unknown properties, so
   * entries written before a field was removed still decode. Bytes that are not JSON for the type,
   * or JSON {@code null}, fail with a {@link CodecException} naming the type. Needs
   * {@code com.fasterxml.jackson.core:jackson-databind}, an optional dependency of Cachet.
   */
  public static <T> Codec<T> json(Class<T> type) {
    return JsonCodec.of(type, JsonCodec.defaultMapper());
  }

  /** Returns a codec writing values of {@code type} as JSON with {@code mapper}, as it is configured. */
  public static <T> Codec<T> json(Class<T> type, com.fasterxml.jackson.databind.ObjectMapper mapper) {
    return JsonCodec.of(type, mapper);
  }

  /**
   * Returns a codec writing values of a generic type as JSON, such as
   * {@code Codecs.json(new TypeReference<List<Order>>() {})}; otherwise as {@link #json(Class)}.
   */
  public static <T> Codec<T> json(com.fasterxml.jackson.core.type.TypeReference<T> type) {
    return JsonCodec.of(type, JsonCodec.defaultMapper());
  }

  /** Returns a codec writing values of a generic type as JSON with {@code mapper}. */
  public static <T> Codec<T> json(
      com.fasterxml.jackson.core.type.TypeReference<T> type, com.fasterxml.jackson.databind.ObjectMapper mapper) {
    return JsonCodec.of(type, mapper);
  }

  /**
   * Returns a codec writing values of the Jackson type {@code type} (built with
   * {@code mapper.getTypeFactory()}) as JSON with {@code mapper}; the caller vouches that
   * {@code T} is that type.
   */
  public static <T> Codec<T> json(
      com.fasterxml.jackson.databind.JavaType type, com.fasterxml.jackson.databind.ObjectMapper mapper) {
    return JsonCodec.of(type, mapper);
  }

  private static void requireJackson(String option) {
    try {
      Class.forName("com.fasterxml.jackson.databind.ObjectMapper", false, Codecs.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException(
          option + ": json codecs need com.fasterxml.jackson.core:jackson-databind on the class path", e);
    }
  }
}
