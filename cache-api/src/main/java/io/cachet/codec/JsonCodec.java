package io.cachet.codec;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.Objects;

/**
 * A {@link Codec} writing values as JSON with Jackson; built by {@link Codecs#json(Class)} and its
 * overloads. Thread-safe: Jackson's readers and writers are immutable.
 *
 * <p>Only the declared type is ever instantiated (no polymorphic type information is read), so
 * bytes written by another client cannot make the codec create arbitrary classes, which is what
 * makes JSON the safe choice where Java serialization is not. Unknown properties are ignored when
 * decoding, so entries written by an older or newer version of a class still decode after a field
 * is added or removed; a JSON {@code null}, trailing content or a shape that does not fit the type
 * is a {@link CodecException} naming the type.
 *
 * @param <T> the type encoded
 */
final class JsonCodec<T> implements Codec<T> {

  /** The mapper behind the codecs built without one: modules found on the class path registered. */
  private static final class DefaultMapper {
    static final ObjectMapper INSTANCE =
        JsonMapper.builder()
            .findAndAddModules()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
  }

  private final Class<T> type;
  private final String typeName;
  private final ObjectReader reader;
  private final ObjectWriter writer;

  private JsonCodec(Class<T> type, JavaType javaType, ObjectMapper mapper) {
    this.type = type;
    this.typeName = javaType.toCanonical();
    this.reader = mapper.readerFor(javaType);
    this.writer = mapper.writerFor(javaType);
  }

  static ObjectMapper defaultMapper() {
    return DefaultMapper.INSTANCE;
  }

  static <T> JsonCodec<T> of(Class<T> type, ObjectMapper mapper) {
    requireNonNull(type, "type");
    requireNonNull(mapper, "mapper");
    if (type.isPrimitive()) {
      throw new IllegalArgumentException("type must not be primitive, was " + type.getName());
    }
    return new JsonCodec<>(type, mapper.constructType(type), mapper);
  }

  static <T> JsonCodec<T> of(TypeReference<T> type, ObjectMapper mapper) {
    requireNonNull(type, "type");
    requireNonNull(mapper, "mapper");
    return of(mapper.constructType(type), mapper);
  }

  @SuppressWarnings("unchecked") // a JavaType stands for values of its raw class
  static <T> JsonCodec<T> of(JavaType type, ObjectMapper mapper) {
    requireNonNull(type, "type");
    requireNonNull(mapper, "mapper");
    if (type.isPrimitive()) {
      throw new IllegalArgumentException("type must not be primitive, was " + type.toCanonical());
    }
    return new JsonCodec<>((Class<T>) type.getRawClass(), type, mapper);
  }

  @Override
  public byte[] encode(T value) {
    requireNonNull(value, "value");
    try {
      return writer.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new CodecException("cannot write a " + value.getClass().getName() + " as JSON for " + typeName, e);
    }
  }

  @Override
  public T decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  @Override
  public T decode(byte[] bytes, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    Object value;
    try {
      value = reader.readValue(bytes, offset, length);
    } catch (IOException e) {
      throw new CodecException(
          "cannot read " + length + " bytes as JSON for " + typeName + ": " + firstLine(e), e);
    }
    if (value == null) {
      throw new CodecException("expected JSON for " + typeName + " but " + length + " bytes hold null", null);
    }
    return type.cast(value);
  }

  private static String firstLine(IOException e) {
    String message = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    if (message == null) {
      return e.getClass().getSimpleName();
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  @Override
  public Class<T> type() {
    return type;
  }

  @Override
  public String toString() {
    return "Codecs.json(" + typeName + ")";
  }
}
