package io.cachet.examples.cluster;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/** Round-robin over the ready backends, skipping those a request has already tried. Thread-safe. */
final class BackendSelector {

  private final List<Backend> backends;
  private final AtomicInteger next = new AtomicInteger();

  BackendSelector(List<Backend> backends) {
    this.backends = List.copyOf(backends);
  }

  List<Backend> backends() {
    return backends;
  }

  /** Returns the next ready backend not in {@code tried}, or null when there is none. */
  @Nullable Backend pick(Set<Backend> tried) {
    int n = backends.size();
    int start = Math.floorMod(next.getAndIncrement(), n);
    for (int i = 0; i < n; i++) {
      Backend candidate = backends.get((start + i) % n);
      if (candidate.ready() && !tried.contains(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
