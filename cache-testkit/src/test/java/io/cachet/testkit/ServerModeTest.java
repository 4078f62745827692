package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

final class ServerModeTest {

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"  "})
    void parse_unset_isProcess(String value) {
        assertThat(ServerMode.parse(value)).isEqualTo(ServerMode.PROCESS).isEqualTo(ServerMode.DEFAULT);
    }

    @Test
    void parse_namesOfTheModes() {
        assertThat(ServerMode.parse("process")).isEqualTo(ServerMode.PROCESS);
        assertThat(ServerMode.parse("testcontainers")).isEqualTo(ServerMode.TESTCONTAINERS);
    }

    @Test
    void parse_ignoresCaseAndBlanks() {
        assertThat(ServerMode.parse(" TestContainers ")).isEqualTo(ServerMode.TESTCONTAINERS);
        assertThat(ServerMode.parse("PROCESS")).isEqualTo(ServerMode.PROCESS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"docker", "containers", "test-containers", "processes"})
    void parse_unknownValue_namesPropertyAndAcceptedValues(String value) {
        assertThatThrownBy(() -> ServerMode.parse(value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cachet.testkit.servers must be one of process, testcontainers, was '" + value + "'");
    }

    @Test
    void value_isWhatParseAccepts() {
        for (ServerMode mode : ServerMode.values()) {
            assertThat(ServerMode.parse(mode.value())).isEqualTo(mode);
        }
    }
}
