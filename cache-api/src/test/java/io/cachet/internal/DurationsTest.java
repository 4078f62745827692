package io.cachet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

final class DurationsTest {

  @Test
  void parse_unitsAndIso() {
    assertThat(Durations.parse("x", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("x", "30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("x", " 5m ")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("x", "2H")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("x", "1d")).isEqualTo(Duration.ofDays(1));
    assertThat(Durations.parse("x", "PT1M30S")).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void parse_garbage_namesOptionAndText() {
    for (String bad : new String[] {"", "10", "5 minutes", "-5s", "PTxyz", "99999999999999999999d"}) {
      assertThatThrownBy(() -> Durations.parse("ttl", bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("ttl must be a duration")
          .hasMessageEndingWith("was '" + bad + "'");
    }
  }
}
