package io.cachet.spring.boot;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The caches declared under {@code cachet.caches} and {@code spring.cache.cache-names}, validated; a
 * bean so that validation runs once.
 */
final class DeclaredCaches {

  private final List<CacheDeclarations.Declared> caches;
  private final boolean dynamic;
  private final @Nullable String springCacheType;

  DeclaredCaches(List<CacheDeclarations.Declared> caches, boolean dynamic, @Nullable String springCacheType) {
    this.caches = List.copyOf(caches);
    this.dynamic = dynamic;
    this.springCacheType = springCacheType;
  }

  List<CacheDeclarations.Declared> caches() {
    return caches;
  }

  /** {@code spring.cache.type} when it picks one of Boot's managers, else null. */
  @Nullable String springCacheType() {
    return springCacheType;
  }

  /** Whether unknown cache names are created on first use. */
  boolean dynamic() {
    return dynamic;
  }
}
