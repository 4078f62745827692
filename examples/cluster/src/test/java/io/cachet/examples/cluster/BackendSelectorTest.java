package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Round-robin selection of ready backends. */
final class BackendSelectorTest {

  private final Backend a = new Backend(1, "a", "127.0.0.1", 1);
  private final Backend b = new Backend(2, "b", "127.0.0.1", 2);
  private final Backend c = new Backend(3, "c", "127.0.0.1", 3);
  private final BackendSelector selector = new BackendSelector(List.of(a, b, c));

  @Test
  void pick_rotatesOverReadyBackends() {
    a.ready(true);
    b.ready(true);
    c.ready(true);
    List<String> picked = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      picked.add(selector.pick(Set.of()).id);
    }
    assertThat(picked).containsExactly("a", "b", "c", "a", "b", "c");
  }

  @Test
  void pick_skipsBackendsThatAreNotReady() {
    a.ready(true);
    c.ready(true);
    Set<String> picked = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      picked.add(selector.pick(Set.of()).id);
    }
    assertThat(picked).containsExactlyInAnyOrder("a", "c");
  }

  @Test
  void pick_skipsTriedBackends_andReturnsNullWhenNoneIsLeft() {
    a.ready(true);
    b.ready(true);
    assertThat(selector.pick(Set.of(a)).id).isEqualTo("b");
    assertThat(selector.pick(Set.of(a, b))).isNull();
  }

  @Test
  void pick_nothingReady_isNull() {
    assertThat(selector.pick(Set.of())).isNull();
  }
}
