/**
 * The Cachet API: {@link io.cachet.Cache}, {@link io.cachet.CacheManager} and
 * {@link io.cachet.CacheConfig}.
 *
 * <p>An application creates one {@code CacheManager}, asks it for named caches built from
 * configurations, and closes it on shutdown. The backend behind each cache (local, Redis,
 * replicated) is a configuration choice; the semantics of every operation are the same.
 */
@NullMarked
package io.cachet;

import org.jspecify.annotations.NullMarked;
