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
import java.util.Locale;

/** The built-in codecs. */
public final class Codecs {

  private Codecs() {}

  /** Returns the codec for strings as UTF-8; decoding rejects malformed UTF-8. */
  public static Codec<String> utf8() {
    return Utf8Codec.INSTANCE;
  }

  /** Returns the identity codec for byte arrays (the array is copied neither way). */
  public static Codec<byte[]> bytes() {
    return BytesCodec.INSTANCE;
  }

  /**
   * Returns a codec using Java serialization, resolving classes through {@code classLoader}.
   *
   * <p>Only decode bytes this codec produced: Java deserialization of untrusted bytes is unsafe.
   */
  public static Codec<Serializable> javaSerialization(ClassLoader classLoader) {
    return new JavaSerializationCodec(requireNonNull(classLoader, "classLoader"));
  }

  /**
   * Returns the codec named {@code name} in a configuration: {@code string}, {@code bytes} or
   * {@code java}.
   *
   * @throws IllegalArgumentException naming {@code option} if the name is unknown
   */
  public static Codec<?> named(String option, String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "string", "utf8", "utf-8" -> utf8();
      case "bytes" -> bytes();
      case "java" -> javaSerialization(Codecs.class.getClassLoader());
      default ->
          throw new IllegalArgumentException(
              option + " must be one of string, bytes, java; was '" + name + "'");
    };
  }

  private enum Utf8Codec implements Codec<String> {
    INSTANCE;

    @Override
    public byte[] encode(String value) {
      return value.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String decode(byte[] bytes) {
      if (isAscii(bytes)) {
        // ASCII is valid UTF-8 as it is; skips building a strict decoder (the common case).
        return new String(bytes, StandardCharsets.ISO_8859_1);
      }
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        throw new CodecException("not valid UTF-8 (" + bytes.length + " bytes)", e);
      }
    }

    private static boolean isAscii(byte[] bytes) {
      for (byte b : bytes) {
        if (b < 0) {
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
    public Class<byte[]> type() {
      return byte[].class;
    }

    @Override
    public String toString() {
      return "Codecs.bytes()";
    }
  }

  private static final class JavaSerializationCodec implements Codec<Serializable> {

    private final ClassLoader classLoader;

    JavaSerializationCodec(ClassLoader classLoader) {
      this.classLoader = classLoader;
    }

    @Override
    public byte[] encode(Serializable value) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(value);
      } catch (IOException e) {
        throw new CodecException("cannot serialize a " + value.getClass().getName(), e);
      }
      return bytes.toByteArray();
    }

    @Override
    public Serializable decode(byte[] bytes) {
      try (ObjectInputStream in = new LoaderObjectInputStream(new ByteArrayInputStream(bytes), classLoader)) {
        return (Serializable) in.readObject();
      } catch (IOException | ClassNotFoundException | ClassCastException e) {
        throw new CodecException("cannot deserialize " + bytes.length + " bytes", e);
      }
    }

    @Override
    public Class<Serializable> type() {
      return Serializable.class;
    }

    @Override
    public String toString() {
      return "Codecs.javaSerialization()";
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
}
