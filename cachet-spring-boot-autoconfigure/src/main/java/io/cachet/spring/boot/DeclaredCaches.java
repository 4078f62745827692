package io.cachet.spring.boot;

import java.util.List;

/** The caches declared under {@code cachet.caches}, validated; a bean so that validation runs once. */
final class DeclaredCaches {

  private final List<CacheDeclarations.Declared> caches;
  private final boolean dynamic;

  DeclaredCaches(List<CacheDeclarations.Declared> caches, boolean dynamic) {
    this.caches = List.copyOf(caches);
    this.dynamic = dynamic;
  }

  List<CacheDeclarations.Declared> caches() {
    return caches;
  }

  /** Whether unknown cache names are created on first use. */
  boolean dynamic() {
    return dynamic;
  }
}
