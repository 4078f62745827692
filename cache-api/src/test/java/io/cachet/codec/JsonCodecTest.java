package io.cachet.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.cachet.CacheConfig;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class JsonCodecTest {

  record Order(String id, long cents, Instant placedAt) {}

  record Line(String sku, int quantity) {}

  private static final Order ORDER = new Order("o-1", 1999, Instant.parse("2025-01-02T03:04:05Z"));

  @Test
  void json_roundTripsARecordWithJavaTime() {
    Codec<Order> codec = Codecs.json(Order.class);

    byte[] bytes = codec.encode(ORDER);

    assertThat(new String(bytes, StandardCharsets.UTF_8)).startsWith("{\"id\":\"o-1\",\"cents\":1999,");
    assertThat(codec.decode(bytes)).isEqualTo(ORDER);
    byte[] framed = new byte[bytes.length + 4];
    System.arraycopy(bytes, 0, framed, 2, bytes.length);
    assertThat(codec.decode(framed, 2, bytes.length)).isEqualTo(ORDER); // in place, from a larger buffer
    assertThat(codec.type()).isEqualTo(Order.class);
    assertThat(codec).hasToString("Codecs.json(io.cachet.codec.JsonCodecTest$Order)");
  }

  @Test
  void json_typeReference_roundTripsAGenericType() {
    Codec<List<Line>> codec = Codecs.json(new TypeReference<List<Line>>() {});
    List<Line> lines = List.of(new Line("a", 1), new Line("b", 2));

    assertThat(codec.decode(codec.encode(lines))).isEqualTo(lines);
    assertThat(codec.type()).isEqualTo(List.class);
    assertThat(codec.toString()).contains("java.util.List<io.cachet.codec.JsonCodecTest$Line>");
  }

  @Test
  void json_javaType_usesTheMapperTypeFactory() {
    ObjectMapper mapper = new ObjectMapper();
    Codec<Map<String, Integer>> codec =
        Codecs.json(mapper.getTypeFactory().constructMapType(Map.class, String.class, Integer.class), mapper);

    assertThat(codec.decode("{\"a\":1}".getBytes(StandardCharsets.UTF_8))).isEqualTo(Map.of("a", 1));
  }

  @Test
  void json_withMapper_followsItsConfiguration() {
    ObjectMapper snake = JsonMapper.builder()
        .findAndAddModules()
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .build();
    record Person(String firstName) {}

    Codec<Person> codec = Codecs.json(Person.class, snake);

    assertThat(new String(codec.encode(new Person("Ada")), StandardCharsets.UTF_8))
        .isEqualTo("{\"first_name\":\"Ada\"}");
  }

  @Test
  void decode_ignoresUnknownProperties() {
    byte[] older = "{\"id\":\"o-1\",\"cents\":5,\"placedAt\":null,\"removedField\":true}".getBytes(StandardCharsets.UTF_8);

    assertThat(Codecs.json(Order.class).decode(older)).isEqualTo(new Order("o-1", 5, null));
  }

  @Test
  void decode_garbage_throwsCodecExceptionNamingTheType() {
    byte[] garbage = {(byte) 0xAC, (byte) 0xED, 0, 5};

    assertThatThrownBy(() -> Codecs.json(Order.class).decode(garbage))
        .isInstanceOf(CodecException.class)
        .hasMessageStartingWith("cannot read 4 bytes as JSON for io.cachet.codec.JsonCodecTest$Order: ")
        .hasCauseInstanceOf(java.io.IOException.class);
  }

  @Test
  void decode_wrongShape_throwsCodecExceptionNamingTheType() {
    byte[] array = "[1,2]".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> Codecs.json(Order.class).decode(array))
        .isInstanceOf(CodecException.class)
        .hasMessageContaining("JsonCodecTest$Order");
  }

  @Test
  void decode_trailingContent_throwsCodecException() {
    byte[] two = "{\"id\":\"a\"} {\"id\":\"b\"}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> Codecs.json(Order.class).decode(two)).isInstanceOf(CodecException.class);
  }

  @Test
  void decode_jsonNull_throwsCodecException() {
    assertThatThrownBy(() -> Codecs.json(Order.class).decode("null".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(CodecException.class)
        .hasMessage("expected JSON for io.cachet.codec.JsonCodecTest$Order but 4 bytes hold null");
  }

  @Test
  void decode_neverInstantiatesClassesNamedInTheData() {
    Codec<Object> codec = Codecs.json(Object.class);
    byte[] typed = "[\"java.util.ArrayList\",[1]]".getBytes(StandardCharsets.UTF_8);

    // Without default typing, a class name in the data is only a string.
    assertThat(codec.decode(typed)).isEqualTo(List.of("java.util.ArrayList", List.of(1)));
  }

  @Test
  void json_primitiveType_isRejected() {
    assertThatThrownBy(() -> Codecs.json(int.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("type must not be primitive, was int");
  }

  @Test
  void valueCodec_json_typesTheConfiguration() {
    CacheConfig<String, Order> config = CacheConfig.builder("orders").valueCodec(Codecs.json(Order.class)).build();

    assertThat(config.valueType()).isEqualTo(Order.class);
    assertThat(config.valueCodec()).get().hasToString("Codecs.json(io.cachet.codec.JsonCodecTest$Order)");
  }

  @Test
  void named_jsonClass_buildsAJsonCodec() {
    Codec<?> codec = Codecs.named("valueCodec", "json:" + Line.class.getName(), getClass().getClassLoader());

    assertThat(codec.type()).isEqualTo(Line.class);
    assertThat(codec).hasToString("Codecs.json(io.cachet.codec.JsonCodecTest$Line)");
  }

  @Test
  void named_jsonUnknownClass_namesTheOption() {
    assertThatThrownBy(() -> Codecs.named("valueCodec", "json:com.example.Missing", getClass().getClassLoader()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("valueCodec must name a class on the class path, was 'com.example.Missing'");
  }

  @Test
  void option_valueCodecJson_fromProperties() {
    CacheConfig<?, ?> config = CacheConfig.builder("orders")
        .option("valueCodec", "json:" + Order.class.getName(), getClass().getClassLoader())
        .build();

    assertThat(config.valueType()).isEqualTo(Order.class);
  }
}
