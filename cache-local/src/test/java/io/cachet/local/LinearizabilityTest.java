package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checks recorded concurrent histories for linearizability (Wing and Gong's search): is there one
 * order of the operations, consistent with their real-time order, in which a sequential model
 * gives every result the threads observed?
 *
 * <p>Two models: a per-key map (put, get, putIfAbsent, replace, compare-and-set, remove) for both
 * policies with no eviction; and an exact LRU cache of capacity 2 over three keys (get and put)
 * for the {@code LRU} policy, which checks that eviction decisions are linearizable too. Each round
 * is small (3 threads x 4 operations) so the search is exhaustive; many rounds give coverage.
 */
final class LinearizabilityTest {

  private static final int THREADS = 3;
  private static final int OPS = 4;
  private static final int ROUNDS = 1_500;

  /** One completed operation: what was called, what it returned, and when (logical time). */
  record Op(int thread, long invoked, long returned, String kind, String key, @Nullable String a, @Nullable String b, @Nullable Object result) {
    @Override
    public String toString() {
      return "t" + thread + " [" + invoked + "," + returned + "] " + kind + "(" + key + (a == null ? "" : "," + a)
          + (b == null ? "" : "," + b) + ") -> " + result;
    }
  }

  /** A sequential specification: the state after {@code op}, or null if {@code op}'s result is impossible. */
  interface Model {
    @Nullable Object apply(Object state, Op op);
  }

  @ParameterizedTest
  @EnumSource(EvictionPolicy.class)
  void perKeyOperations_areLinearizable(EvictionPolicy policy) throws Exception {
    SplittableRandom random = new SplittableRandom(42);
    for (int round = 0; round < ROUNDS; round++) {
      Cache<String, String> cache = LocalCacheProvider.createStandalone(
          CacheConfig.builder("lin").evictionPolicy(policy).maximumSize(1_000).executor(Runnable::run).build());
      List<Op> history = record(cache, random.split(), LinearizabilityTest::randomMapOp);
      assertThat(linearizable(history, Map.of(), LinearizabilityTest::applyMap))
          .as("history not linearizable for %s:%n%s", policy, String.join("\n", history.stream().map(Op::toString).toList()))
          .isTrue();
      cache.close();
    }
  }

  @Test
  void lruEviction_isLinearizableAgainstAnExactLruModel() throws Exception {
    SplittableRandom random = new SplittableRandom(7);
    for (int round = 0; round < ROUNDS; round++) {
      List<String> removals = new java.util.concurrent.CopyOnWriteArrayList<>();
      Cache<String, String> cache = LocalCacheProvider.createStandalone(
          CacheConfig.builder("lin-lru").evictionPolicy(EvictionPolicy.LRU).maximumSize(2).executor(Runnable::run)
              .removalListener((k, v, cause) -> removals.add(k + "=" + v + ":" + cause)).build());
      List<Op> history = record(cache, random.split(), LinearizabilityTest::randomLruOp);
      assertThat(linearizable(history, List.of(), LinearizabilityTest::applyLru))
          .as("history not linearizable against exact LRU:%n%s%nremovals: %s",
              String.join("\n", history.stream().map(Op::toString).toList()), removals)
          .isTrue();
      cache.close();
    }
  }

  // ------------------------------------------------------------ recording

  interface OpFactory {
    Op run(Cache<String, String> cache, SplittableRandom random, int thread, int i, AtomicLong clock);
  }

  private static List<Op> record(Cache<String, String> cache, SplittableRandom random, OpFactory factory) throws Exception {
    AtomicLong clock = new AtomicLong();
    CyclicBarrier start = new CyclicBarrier(THREADS);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<List<Op>>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        SplittableRandom mine = random.split();
        futures.add(pool.submit(() -> {
          start.await();
          List<Op> ops = new ArrayList<>();
          for (int i = 0; i < OPS; i++) {
            ops.add(factory.run(cache, mine, thread, i, clock));
          }
          return ops;
        }));
      }
      List<Op> history = new ArrayList<>();
      for (Future<List<Op>> future : futures) {
        history.addAll(future.get(60, TimeUnit.SECONDS));
      }
      return history;
    } finally {
      pool.shutdownNow();
    }
  }

  private static Op randomMapOp(Cache<String, String> cache, SplittableRandom random, int thread, int i, AtomicLong clock) {
    String key = "k";
    String value = "t" + thread + "." + i;
    String other = random.nextBoolean() ? "t" + random.nextInt(THREADS) + "." + random.nextInt(OPS) : value;
    int kind = random.nextInt(6);
    long invoked = clock.incrementAndGet();
    Object result;
    String name;
    String a = null;
    String b = null;
    switch (kind) {
      case 0 -> { name = "get"; result = cache.get(key); }
      case 1 -> { name = "put"; a = value; cache.put(key, value); result = null; }
      case 2 -> { name = "putIfAbsent"; a = value; result = cache.putIfAbsent(key, value); }
      case 3 -> { name = "replace"; a = value; result = cache.replace(key, value); }
      case 4 -> { name = "cas"; a = other; b = value; result = cache.replace(key, other, value); }
      default -> { name = "remove"; result = cache.remove(key); }
    }
    return new Op(thread, invoked, clock.incrementAndGet(), name, key, a, b, result);
  }

  private static Op randomLruOp(Cache<String, String> cache, SplittableRandom random, int thread, int i, AtomicLong clock) {
    String key = String.valueOf((char) ('a' + random.nextInt(3)));
    if (random.nextInt(3) == 0) {
      String value = "t" + thread + "." + i;
      long invoked = clock.incrementAndGet();
      cache.put(key, value);
      return new Op(thread, invoked, clock.incrementAndGet(), "put", key, value, null, null);
    }
    long invoked = clock.incrementAndGet();
    String result = cache.get(key);
    return new Op(thread, invoked, clock.incrementAndGet(), "get", key, null, null, result);
  }

  // ------------------------------------------------------------ models

  @SuppressWarnings("unchecked")
  private static @Nullable Object applyMap(Object state, Op op) {
    Map<String, String> map = (Map<String, String>) state;
    String current = map.get(op.key());
    return switch (op.kind()) {
      case "get" -> Objects.equals(current, op.result()) ? map : null;
      case "put" -> with(map, op.key(), op.a());
      case "putIfAbsent" -> {
        boolean stored = current == null;
        yield !op.result().equals(stored) ? null : stored ? with(map, op.key(), op.a()) : map;
      }
      case "replace" -> {
        boolean replaced = current != null;
        yield !op.result().equals(replaced) ? null : replaced ? with(map, op.key(), op.a()) : map;
      }
      case "cas" -> {
        boolean replaced = op.a().equals(current);
        yield !op.result().equals(replaced) ? null : replaced ? with(map, op.key(), op.b()) : map;
      }
      case "remove" -> {
        boolean removed = current != null;
        yield !op.result().equals(removed) ? null : removed ? with(map, op.key(), null) : map;
      }
      default -> throw new IllegalArgumentException(op.kind());
    };
  }

  private static Map<String, String> with(Map<String, String> map, String key, @Nullable String value) {
    Map<String, String> copy = new LinkedHashMap<>(map);
    if (value == null) {
      copy.remove(key);
    } else {
      copy.put(key, value);
    }
    return Map.copyOf(copy);
  }

  /** State: entries "key=value", least recent first, at most 2. */
  @SuppressWarnings("unchecked")
  private static @Nullable Object applyLru(Object state, Op op) {
    List<String> entries = (List<String>) state;
    int index = -1;
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).startsWith(op.key() + "=")) {
        index = i;
      }
    }
    List<String> next = new ArrayList<>(entries);
    if (op.kind().equals("get")) {
      String current = index < 0 ? null : entries.get(index).substring(op.key().length() + 1);
      if (!Objects.equals(current, op.result())) {
        return null;
      }
      if (index >= 0) {
        next.add(next.remove(index)); // a hit makes the key the most recent
      }
      return List.copyOf(next);
    }
    if (index >= 0) {
      next.remove(index);
    } else if (next.size() == 2) {
      next.remove(0); // evict the least recent
    }
    next.add(op.key() + "=" + op.a());
    return List.copyOf(next);
  }

  // ------------------------------------------------------------ search

  static boolean linearizable(List<Op> history, Object initial, Model model) {
    return search(history, new BitSet(), initial, model, new HashSet<>());
  }

  private static boolean search(List<Op> history, BitSet done, Object state, Model model, Set<String> failed) {
    if (done.cardinality() == history.size()) {
      return true;
    }
    String memo = done + "|" + state;
    if (failed.contains(memo)) {
      return false;
    }
    // Earliest response among pending operations: anything invoked after it cannot go first.
    long earliestReturn = Long.MAX_VALUE;
    for (int i = 0; i < history.size(); i++) {
      if (!done.get(i)) {
        earliestReturn = Math.min(earliestReturn, history.get(i).returned());
      }
    }
    for (int i = 0; i < history.size(); i++) {
      Op op = history.get(i);
      if (done.get(i) || op.invoked() > earliestReturn) {
        continue;
      }
      Object next = model.apply(state, op);
      if (next != null) {
        done.set(i);
        if (search(history, done, next, model, failed)) {
          return true;
        }
        done.clear(i);
      }
    }
    failed.add(memo);
    return false;
  }

  @Test
  void checker_rejectsANonLinearizableHistory() {
    // put(a) completes, then a later get returns nothing: impossible for a map.
    List<Op> history = List.of(
        new Op(0, 1, 2, "put", "k", "a", null, null),
        new Op(1, 3, 4, "get", "k", null, null, null));
    assertThat(linearizable(history, Map.of(), LinearizabilityTest::applyMap)).isFalse();
    // The same two overlapping: the get may go first.
    List<Op> overlapping = List.of(
        new Op(0, 1, 4, "put", "k", "a", null, null),
        new Op(1, 2, 3, "get", "k", null, null, null));
    assertThat(linearizable(overlapping, Map.of(), LinearizabilityTest::applyMap)).isTrue();
    // LRU: a, b put; a read; c put evicts b; reading b must miss.
    List<Op> lru = List.of(
        new Op(0, 1, 2, "put", "a", "1", null, null),
        new Op(0, 3, 4, "put", "b", "2", null, null),
        new Op(0, 5, 6, "get", "a", null, null, "1"),
        new Op(0, 7, 8, "put", "c", "3", null, null),
        new Op(0, 9, 10, "get", "b", null, null, "2"));
    assertThat(linearizable(lru, List.of(), LinearizabilityTest::applyLru)).isFalse();
  }
}
