package io.cachet.examples.quickstart;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.CacheStats;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A runnable tour of the local backend: read-through with single-flight loads, exact LRU eviction,
 * per-entry expiry and statistics. Run with {@code java -jar examples/quickstart/target/quickstart.jar}.
 */
public final class QuickStart {

  private QuickStart() {}

  /** Runs the tour and prints what happens. */
  public static void main(String[] args) {
    PrintStream out = System.out;
    AtomicInteger databaseReads = new AtomicInteger();
    // A clock we move by hand, so the expiry step needs no waiting; tests do the same.
    FakeTicker clock = new FakeTicker();
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> users =
          manager.create(
              CacheConfig.builder("users")
                  .maximumSize(3)
                  .evictionPolicy(EvictionPolicy.LRU)
                  .expireAfterWrite(Duration.ofMinutes(5))
                  .ticker(clock)
                  .build());

      out.println("1. Read-through: the first read of a key loads it, later reads hit the cache.");
      for (String id : new String[] {"1", "2", "1", "1"}) {
        String name = users.get(id, key -> slowDatabaseRead(key, databaseReads));
        out.printf("   get(%s) -> %s   (database reads so far: %d)%n", id, name, databaseReads.get());
      }

      out.println("2. Exact LRU, capacity 3: reading 3 and 4 evicts the least recently used key, 2.");
      users.get("3", key -> slowDatabaseRead(key, databaseReads));
      users.get("4", key -> slowDatabaseRead(key, databaseReads));
      for (String id : new String[] {"1", "2", "3", "4"}) {
        out.printf("   cached %s? %s%n", id, users.get(id) != null);
      }

      out.println("3. Expiry: a session token put with a 30 s TTL goes first; users last 5 minutes.");
      users.put("session", "token-xyz", Duration.ofSeconds(30));
      out.printf("   get(session) -> %s, get(4) -> %s%n", users.get("session"), users.get("4"));
      clock.advance(Duration.ofSeconds(30));
      out.printf("   30 s later: get(session) -> %s, get(4) -> %s%n", users.get("session"), users.get("4"));
      clock.advance(Duration.ofMinutes(5));
      out.printf("   5 min later: get(4) -> %s%n", users.get("4"));

      CacheStats stats = users.stats();
      out.printf(
          "4. Stats: %d hits, %d misses, %d loads, hit rate %.0f%%%n",
          stats.hitCount(), stats.missCount(), stats.loadCount(), stats.hitRate() * 100);
    }
  }

  private static String slowDatabaseRead(String id, AtomicInteger reads) {
    reads.incrementAndGet();
    return "user-" + id;
  }
}
