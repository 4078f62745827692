/**
 * A transparent caching Redis proxy over HTTP and the Redis protocol (RESP), built only on
 * Cachet's public API: a {@code redis}-backend cache (exact-LRU near cache, capacity in keys,
 * global expiry) in front of one backing Redis. Run it with {@code java -jar redis-proxy.jar}.
 */
@NullMarked
package io.cachet.examples.proxy;

import org.jspecify.annotations.NullMarked;
