/**
 * The {@link javax.cache.spi.CachingProvider} registered in
 * {@code META-INF/services/javax.cache.spi.CachingProvider}.
 */
@NullMarked
package io.cachet.jcache.spi;

import org.jspecify.annotations.NullMarked;
