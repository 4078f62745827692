/**
 * The {@code local} backend: bounded in-process caches. {@link io.cachet.EvictionPolicy#TINY_LFU}
 * is Caffeine; {@link io.cachet.EvictionPolicy#LRU} is an exact least-recently-used store.
 *
 * <p>Applications select it with {@code CacheConfig.builder(name).backend("local")} (the default)
 * and never use these classes directly; {@link io.cachet.local.LocalCacheProvider} is the entry
 * point the {@link io.cachet.CacheManager} finds.
 */
@NullMarked
package io.cachet.local;

import org.jspecify.annotations.NullMarked;
