/**
 * The JCache (JSR-107) provider: {@code javax.cache} caches whose entries live in Cachet caches.
 *
 * <p>Applications reach it through {@link javax.cache.Caching#getCachingProvider()}, which finds
 * {@link io.cachet.jcache.spi.CachetCachingProvider} on the class path. A cache is configured with
 * any JCache configuration; {@link io.cachet.jcache.CachetConfiguration} adds the Cachet backend and
 * its options. A {@link javax.cache.CacheManager} URI with the {@code classpath:}, {@code file:} or
 * {@code jar:} scheme names a properties file that declares caches with the option names of
 * {@link io.cachet.CacheConfig}. See {@code docs/jcache.md}.
 *
 * <p>It ships as {@code io.cachet:cache-jcache}, which brings {@code javax.cache:cache-api}; the
 * provider is on the class path only when that artifact is.
 */
@NullMarked
package io.cachet.jcache;

import org.jspecify.annotations.NullMarked;
