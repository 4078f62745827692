/**
 * Spring's cache abstraction over Cachet: {@link io.cachet.spring.CachetCacheManager} and
 * {@link io.cachet.spring.CachetCache} make Cachet caches usable behind {@code @Cacheable},
 * {@code @CachePut} and {@code @CacheEvict}, without Spring Boot.
 */
@NullMarked
package io.cachet.spring;

import org.jspecify.annotations.NullMarked;
