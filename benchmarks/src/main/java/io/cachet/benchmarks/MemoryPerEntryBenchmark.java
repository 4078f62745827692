package io.cachet.benchmarks;

import com.github.benmanes.caffeine.cache.Caffeine;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How much heap does a local cache keep per entry? Fills each implementation with the same
 * entries and reports the heap it retains, per entry, against the naive exact LRU and a plain
 * {@code HashMap} measured in the same JVM.
 *
 * <h2>Workload</h2>
 *
 * {@code entries} (default 1,000,000) entries with 16-character ASCII {@code String} keys
 * ({@code "key-000000000042"}) and 100-byte {@code byte[]} values; every cache is bounded at
 * exactly {@code entries}, so nothing is evicted. Keys and values are created while filling and
 * referenced only by the cache, so the figure is everything the cache retains: the keys and
 * values themselves (the same for every implementation, printed as "data") plus the structure
 * ("overhead" = total - data).
 *
 * <h2>Method</h2>
 *
 * For each implementation: {@code System.gc()} until the used heap stops shrinking (at most
 * {@value #GC_ROUNDS} rounds), read the used heap from the {@link MemoryMXBean}, build and fill
 * the cache, collect again the same way with the cache still referenced, and divide the
 * difference by the entry count; then drop the cache. {@code rounds} rounds run every
 * implementation in turn (the order rotates each round); the median per implementation is
 * reported. The data alone is measured the same way (keys and values held in two arrays, minus
 * the arrays' own size).
 *
 * <h2>Implementations ({@code impl})</h2>
 *
 * {@code CACHET_LRU} and {@code CACHET_TINY_LFU} (Cachet {@code local} caches with a user's
 * defaults: statistics on, per-entry TTLs allowed), {@code CACHET_TINY_LFU_NO_TTL}
 * ({@code perEntryTtl(false)}), {@code CAFFEINE} ({@code maximumSize(n).recordStats()}), {@code
 * SYNC_LINKED_HASH_MAP} (the naive exact LRU, as in {@link LocalCacheBenchmark}), {@code
 * CONCURRENT_HASH_MAP} and {@code HASH_MAP} (unbounded, for scale).
 *
 * <h2>Running</h2>
 *
 * <pre>
 * java -Xms3g -Xmx3g -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.MemoryPerEntryBenchmark
 * java -Xmx3g -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.MemoryPerEntryBenchmark \
 *     entries=1000000 rounds=3 impl=CACHET_LRU,SYNC_LINKED_HASH_MAP
 * </pre>
 *
 * The figures depend on the JVM's object layout: with compressed references (heaps under 32 GiB,
 * the default) a reference is 4 bytes and an object header 12.
 */
public final class MemoryPerEntryBenchmark {

  /** Key length in characters. */
  static final int KEY_LENGTH = 16;
  /** Value length in bytes. */
  static final int VALUE_LENGTH = 100;
  /** At most this many {@code System.gc()} calls per measurement. */
  static final int GC_ROUNDS = 8;

  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

  private MemoryPerEntryBenchmark() {}

  /** The implementations measured; each returns the filled structure, to be kept reachable. */
  enum Impl {
    CACHET_LRU {
      @Override
      Object fill(int n) {
        return fillCachet(n, config(n).evictionPolicy(EvictionPolicy.LRU).build());
      }
    },
    CACHET_TINY_LFU {
      @Override
      Object fill(int n) {
        return fillCachet(n, config(n).evictionPolicy(EvictionPolicy.TINY_LFU).build());
      }
    },
    CACHET_TINY_LFU_NO_TTL {
      @Override
      Object fill(int n) {
        return fillCachet(
            n, config(n).evictionPolicy(EvictionPolicy.TINY_LFU).perEntryTtl(false).build());
      }
    },
    CAFFEINE {
      @Override
      Object fill(int n) {
        com.github.benmanes.caffeine.cache.Cache<String, byte[]> cache =
            Caffeine.newBuilder().maximumSize(n).recordStats().executor(Runnable::run).build();
        for (int i = 0; i < n; i++) {
          cache.put(key(i), value(i));
        }
        cache.cleanUp();
        return cache;
      }
    },
    SYNC_LINKED_HASH_MAP {
      @Override
      Object fill(int n) {
        return fillMap(n, LocalCacheBenchmark.synchronizedLru(n));
      }
    },
    CONCURRENT_HASH_MAP {
      @Override
      Object fill(int n) {
        return fillMap(n, new ConcurrentHashMap<>());
      }
    },
    HASH_MAP {
      @Override
      Object fill(int n) {
        return fillMap(n, new HashMap<>());
      }
    };

    abstract Object fill(int n);
  }

  /**
   * Runs the measurement; prints one line per implementation and round, then a Markdown table.
   *
   * @param args {@code entries=N rounds=N impl=A,B,...}
   */
  public static void main(String[] args) {
    Map<String, String> a =
        ReplicationFixtures.arguments(
            args,
            Map.of(
                "entries", "1000000",
                "rounds", "3",
                "impl", String.join(",", Arrays.stream(Impl.values()).map(Enum::name).toList())),
            "MemoryPerEntryBenchmark [entries=1000000] [rounds=3] [impl=CACHET_LRU,...]");
    int entries = Integer.parseInt(a.get("entries"));
    int rounds = Integer.parseInt(a.get("rounds"));
    List<Impl> impls = Arrays.stream(a.get("impl").split(",")).map(String::trim).map(Impl::valueOf).toList();
    System.out.println("# " + ReplicationFixtures.machine() + ", load " + ReplicationFixtures.load1());
    System.out.printf(
        Locale.ROOT, "# %,d entries: %d-char String keys, %d-byte byte[] values%n", entries, KEY_LENGTH, VALUE_LENGTH);

    double data = median(measureData(entries, rounds));
    Map<Impl, List<Double>> results = new java.util.EnumMap<>(Impl.class);
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < impls.size(); i++) {
        Impl impl = impls.get((i + round) % impls.size());
        double perEntry = measure(() -> impl.fill(entries), entries);
        results.computeIfAbsent(impl, k -> new ArrayList<>()).add(perEntry);
        System.out.printf(Locale.ROOT, "round %d %-24s %8.1f bytes/entry%n", round + 1, impl, perEntry);
      }
    }

    Double lhm = results.containsKey(Impl.SYNC_LINKED_HASH_MAP) ? median(results.get(Impl.SYNC_LINKED_HASH_MAP)) : null;
    Double hashMap = results.containsKey(Impl.HASH_MAP) ? median(results.get(Impl.HASH_MAP)) : null;
    System.out.println();
    System.out.printf(Locale.ROOT, "data (keys + values): %.1f bytes/entry%n%n", data);
    System.out.println("| impl | bytes/entry (median) | min - max | overhead (total - data) | vs SYNC_LINKED_HASH_MAP | vs HASH_MAP |");
    System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (Impl impl : impls) {
      List<Double> r = results.get(impl);
      double m = median(r);
      System.out.printf(
          Locale.ROOT,
          "| %s | %.1f | %.1f - %.1f | %.1f | %s | %s |%n",
          impl, m, r.stream().mapToDouble(d -> d).min().orElse(0), r.stream().mapToDouble(d -> d).max().orElse(0),
          m - data, lhm == null ? "n/a" : String.format(Locale.ROOT, "%.2f", m / lhm),
          hashMap == null ? "n/a" : String.format(Locale.ROOT, "%.2f", m / hashMap));
    }
    System.out.println("\n# load " + ReplicationFixtures.load1());
  }

  /** Bytes per entry retained by what {@code fill} returns, measured around it. */
  static double measure(java.util.function.Supplier<Object> fill, int entries) {
    long before = settledHeap();
    Object kept = fill.get();
    long after = settledHeap();
    double perEntry = (after - before) / (double) entries;
    java.lang.ref.Reference.reachabilityFence(kept);
    if (kept instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return perEntry;
  }

  private static List<Double> measureData(int entries, int rounds) {
    List<Double> data = new ArrayList<>();
    long arrays = 2 * (16 + 4L * entries); // two reference arrays (compressed oops)
    for (int round = 0; round < rounds; round++) {
      double perEntry =
          measure(
              () -> {
                String[] keys = new String[entries];
                byte[][] values = new byte[entries][];
                for (int i = 0; i < entries; i++) {
                  keys[i] = key(i);
                  values[i] = value(i);
                }
                return new Object[] {keys, values};
              },
              entries);
      data.add(perEntry - arrays / (double) entries);
    }
    return data;
  }

  /** Collects until the used heap stops shrinking; returns it. */
  static long settledHeap() {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < GC_ROUNDS; i++) {
      System.gc();
      long now = MEMORY.getHeapMemoryUsage().getUsed();
      if (now >= used) {
        return now;
      }
      used = now;
    }
    return used;
  }

  static String key(int i) {
    String digits = Integer.toString(i);
    StringBuilder key = new StringBuilder(KEY_LENGTH).append("key-");
    for (int pad = KEY_LENGTH - 4 - digits.length(); pad > 0; pad--) {
      key.append('0');
    }
    return key.append(digits).toString();
  }

  static byte[] value(int i) {
    byte[] value = new byte[VALUE_LENGTH];
    Arrays.fill(value, (byte) i);
    return value;
  }

  private static CacheConfig.Builder<String, byte[]> config(int n) {
    return CacheConfig.builder("memory").valueType(byte[].class).maximumSize(n).executor(Runnable::run);
  }

  private static Object fillCachet(int n, CacheConfig<String, byte[]> config) {
    CacheManager manager = CacheManager.create();
    Cache<String, byte[]> cache = manager.create(config);
    for (int i = 0; i < n; i++) {
      cache.put(key(i), value(i));
    }
    if (config.evictionPolicy() == EvictionPolicy.TINY_LFU) {
      cache.unwrap(com.github.benmanes.caffeine.cache.Cache.class).cleanUp();
    }
    if (cache.estimatedSize() != n) {
      throw new IllegalStateException(config.evictionPolicy() + " holds " + cache.estimatedSize() + " of " + n);
    }
    return manager;
  }

  private static Object fillMap(int n, Map<String, byte[]> map) {
    for (int i = 0; i < n; i++) {
      map.put(key(i), value(i));
    }
    return map;
  }

  private static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(d -> d).sorted().toArray();
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}
