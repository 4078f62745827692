/**
 * The backend SPI: how a module such as {@code cache-local} or {@code cache-redis} plugs into a
 * {@link io.cachet.CacheManager}.
 *
 * <p>A backend ships a {@link io.cachet.spi.CacheBackendProvider} registered in
 * {@code META-INF/services/io.cachet.spi.CacheBackendProvider}; the manager finds it with
 * {@link java.util.ServiceLoader} by its {@link io.cachet.spi.CacheBackendProvider#name() name}.
 */
@NullMarked
package io.cachet.spi;

import org.jspecify.annotations.NullMarked;
