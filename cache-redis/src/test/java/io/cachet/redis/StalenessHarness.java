package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures whether a near cache is ever silently stale: one writer updates keys through its own
 * plain Redis connections (a {@link Writes} the test supplies), readers read through the cache, and
 * for every write acknowledged at time t, no read that starts after t + 100 ms may return an older
 * value. Tests drive faults between {@link #runFor} calls and call {@link #stopAndVerify()} at the end.
 */
final class StalenessHarness implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StalenessHarness.class);

  /** Writes one Redis key; throws when the write is not known to be applied (it is then not recorded). */
  interface Writes {
    void set(String redisKey, String value);

    /** Drops any connection after a failure. */
    default void reset() {}
  }

  static final int KEYS = 16;
  private static final int READERS = 3;
  private static final long BOUND_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final long WIPE = -1;

  /** One event in a key's history: a write of {@code version}, or the restart's wipe. */
  record Event(long version, long atNanos) {}

  /** One read: when it started and the version it returned (-1 for none). */
  record Read(String key, long startNanos, long endNanos, long version) {}

  private final Map<String, List<Event>> history = new ConcurrentHashMap<>();
  /** Reads per reader, recorded in preallocated arrays so the harness itself makes no garbage. */
  private static final int MAX_READS = 1_000_000;

  private final long[][] readStarts = new long[READERS][MAX_READS];
  private final long[][] readEnds = new long[READERS][MAX_READS];
  private final int[][] readKeys = new int[READERS][MAX_READS];
  private final long[][] readVersions = new long[READERS][MAX_READS];
  private final int[] readCounts = new int[READERS];
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicBoolean pauseWriter = new AtomicBoolean();
  private volatile boolean writerIdle;
  /** Versions grow across every writer, so a key's history is ordered by version too. */
  private final java.util.concurrent.atomic.AtomicLong versions = new java.util.concurrent.atomic.AtomicLong();
  

  private final String prefix;
  private final ExecutorService pool = Executors.newFixedThreadPool(READERS + 1);
  private final List<Future<?>> workers = new ArrayList<>();
  private volatile Writes writes;

  private final long pauseNanos;
  /** Phases the test wants exercised, in the order marked. */
  private final List<Phase> phases = Collections.synchronizedList(new ArrayList<>());
  /** Writes the writer thread could not get acknowledged (Redis down, failing over, no replica). */
  private final java.util.concurrent.atomic.AtomicLong failedWrites = new java.util.concurrent.atomic.AtomicLong();

  /** Acknowledged writes and reads that must reflect one, counted per phase, at least. */
  static final int MIN_WRITES_PER_PHASE = 10;
  static final int MIN_CHECKED_READS_PER_PHASE = 50;

  /** A stretch of the run from {@code startNanos} to the next phase, over the keys {@code keys} accepts. */
  private record Phase(String name, long startNanos, java.util.function.Predicate<String> keys) {}

  StalenessHarness(String prefix, Writes writes) {
    this(prefix, writes, Duration.ofNanos(20_000));
  }

  /**
   * @param pause how long a reader pauses after every 8 reads; longer for tests that run long,
   *     so the readers' preallocated records last
   */
  StalenessHarness(String prefix, Writes writes, Duration pause) {
    this.prefix = prefix;
    this.writes = writes;
    this.pauseNanos = pause.toNanos();
    for (int k = 0; k < KEYS; k++) {
      history.put("k" + k, Collections.synchronizedList(new ArrayList<>()));
    }
  }

  /** Starts the writer and the readers of {@code cache}. */
  void start(Cache<String, String> cache) {
    workers.add(pool.submit(this::write));
    for (int r = 0; r < READERS; r++) {
      int seed = r;
      workers.add(pool.submit(() -> read(cache, seed)));
    }
  }

  /** Stops the writer and waits until it is idle. */
  void pauseWriter() {
    pauseWriter.set(true);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> writerIdle);
  }

  void resumeWriter() {
    pauseWriter.set(false);
  }

  /**
   * Starts a phase that must be exercised: from now to the next phase (or the end),
   * {@link #stopAndVerify()} requires at least {@value #MIN_WRITES_PER_PHASE} acknowledged writes of
   * the keys {@code keys} accepts ({@code "k0"} to {@code "k15"}) and at least
   * {@value #MIN_CHECKED_READS_PER_PHASE} reads that had to reflect one of them, so a fault whose
   * aftermath saw no write or no read fails instead of passing unchecked.
   */
  void phase(String name, java.util.function.Predicate<String> keys) {
    phases.add(new Phase(name, System.nanoTime(), keys));
  }

  /** {@link #phase(String, java.util.function.Predicate)} over every key. */
  void phase(String name) {
    phase(name, key -> true);
  }

  /** Records that Redis lost every key now (a restart without persistence). */
  void wiped() {
    long wipedAt = System.nanoTime();
    for (List<Event> events : history.values()) {
      events.add(new Event(WIPE, wipedAt));
    }
  }

  /** Stops the workers and checks every read; fails the test on a stale one. */
  void stopAndVerify() throws Exception {
    stop.set(true);
    for (Future<?> worker : workers) {
      worker.get(30, TimeUnit.SECONDS);
    }
    verify();
  }

  @Override
  public void close() {
    stop.set(true);
    pool.shutdownNow();
  }

  /** Writes {@code key} once, outside the writer thread (e.g. while its connections are down). */
  void writeOnce(Writes via, String key) {
    synchronized (history.get(key)) { // one writer of a key at a time keeps its versions in order
      long version = versions.incrementAndGet();
      via.set(prefix + key, "v" + version);
      history.get(key).add(new Event(version, System.nanoTime()));
    }
  }

  /** Writes in bursts (30 ms on, 150 ms off), so a lost invalidation is not healed at once. */
  private void write() {
    SplittableRandom random = new SplittableRandom(1);
    long burstStart = System.nanoTime();
    while (!stop.get()) {
      if (pauseWriter.get()) {
        writerIdle = true;
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        continue;
      }
      writerIdle = false;
      try {
        writeOnce(writes, "k" + random.nextInt(KEYS));
        if (System.nanoTime() - burstStart > TimeUnit.MILLISECONDS.toNanos(30)) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(150));
          burstStart = System.nanoTime();
        }
      } catch (RuntimeException e) {
        // Redis is restarting or failing over: reconnect after a short pause.
        failedWrites.incrementAndGet();
        writes.reset();
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
    }
    writes.reset();
  }

  private void read(Cache<String, String> cache, int reader) {
    SplittableRandom random = new SplittableRandom(100 + reader);
    int n = 0;
    while (!stop.get() && n < MAX_READS) {
      int k = random.nextInt(KEYS);
      long start = System.nanoTime();
      try {
        String value = cache.get("k" + k);
        readEnds[reader][n] = System.nanoTime();
        readStarts[reader][n] = start;
        readKeys[reader][n] = k;
        readVersions[reader][n] = value == null ? -1 : Long.parseLong(value, 1, value.length(), 10);
        n++;
      } catch (BackendUnavailableException e) {
        // Redis is down or the client is reconnecting: a failure, never a stale answer.
      }
      // Paced like an application, not a spin loop: three readers spinning on near-cache hits
      // would starve the invalidation thread on a small machine and measure the scheduler.
      if ((n & 7) == 0) {
        LockSupport.parkNanos(pauseNanos);
      }
    }
    readCounts[reader] = n;
  }

  private void verify() {
    List<String> violations = new ArrayList<>();
    long maxStalenessNanos = 0;
    Map<String, List<Event>> sorted = new ConcurrentHashMap<>();
    history.forEach((key, events) -> {
      List<Event> copy;
      synchronized (events) {
        copy = new ArrayList<>(events);
      }
      copy.sort(java.util.Comparator.comparingLong(Event::atNanos));
      sorted.put(key, copy);
    });
    long wipedAt = sorted.values().stream().flatMap(List::stream).filter(e -> e.version() == WIPE)
        .mapToLong(Event::atNanos).findFirst().orElse(Long.MAX_VALUE);
    List<Phase> marked;
    synchronized (phases) {
      marked = new ArrayList<>(phases);
    }
    int[] phaseWrites = new int[marked.size()];
    int[] phaseReads = new int[marked.size()];
    sorted.forEach((key, events) -> {
      for (Event e : events) {
        int p = phaseOf(marked, e.atNanos());
        if (e.version() != WIPE && p >= 0 && marked.get(p).keys().test(key)) {
          phaseWrites[p]++;
        }
      }
    });
    List<Read> reads = new ArrayList<>();
    for (int r = 0; r < READERS; r++) {
      for (int i = 0; i < readCounts[r]; i++) {
        reads.add(new Read("k" + readKeys[r][i], readStarts[r][i], readEnds[r][i], readVersions[r][i]));
      }
    }
    for (Read read : reads) {
      List<Event> events = sorted.get(read.key());
      // The newest event the read must reflect: acknowledged at least 100 ms before it started.
      int required = lastAtOrBefore(events, read.startNanos() - BOUND_NANOS);
      if (required >= 0) {
        Event e = events.get(required);
        if (e.version() == WIPE) {
          long lastBefore = 0;
          for (int i = required - 1; i >= 0; i--) {
            if (events.get(i).version() != WIPE) {
              lastBefore = events.get(i).version();
              break;
            }
          }
          if (read.version() != -1 && read.version() <= lastBefore) {
            violations.add(read + " returned a value from before the restart");
          }
        } else {
          int p = phaseOf(marked, e.atNanos());
          if (p >= 0 && marked.get(p).keys().test(read.key())) {
            phaseReads[p]++;
          }
          // The write may have been lost only if the restart came after it and before the read
          // answered: a read that started while the server was stopping can be served by the
          // restarted, empty one.
          boolean lostInWipe = e.atNanos() < wipedAt && read.endNanos() >= wipedAt;
          boolean ok = read.version() >= e.version() || (lostInWipe && read.version() == -1);
          if (!ok) {
            violations.add(read + " returned an older value than " + e);
          }
        }
      }
      maxStalenessNanos = Math.max(maxStalenessNanos, staleness(read, events));
    }
    log.info("{} reads, {} writes ({} not acknowledged); largest staleness observed: {} ms; violations: {}",
        reads.size(), history.values().stream().mapToInt(List::size).sum(), failedWrites.get(),
        TimeUnit.NANOSECONDS.toMillis(maxStalenessNanos), violations.size());
    for (int p = 0; p < marked.size(); p++) {
      log.info("phase '{}': {} acknowledged writes, {} reads that had to reflect one",
          marked.get(p).name(), phaseWrites[p], phaseReads[p]);
    }
    assertThat(reads).hasSizeGreaterThan(1_000);
    for (int p = 0; p < marked.size(); p++) {
      assertThat(phaseWrites[p]).as("acknowledged writes in phase '%s'", marked.get(p).name())
          .isGreaterThanOrEqualTo(MIN_WRITES_PER_PHASE);
      assertThat(phaseReads[p]).as("reads checked against a write of phase '%s'", marked.get(p).name())
          .isGreaterThanOrEqualTo(MIN_CHECKED_READS_PER_PHASE);
    }
    for (int r = 0; r < READERS; r++) {
      assertThat(readCounts[r]).as("reader %d read until the end, across the restart", r).isLessThan(MAX_READS);
    }
    assertThat(violations).isEmpty();
  }

  /** The index of the phase under way at {@code nanos}, or -1 before the first. */
  private static int phaseOf(List<Phase> phases, long nanos) {
    int found = -1;
    for (int p = 0; p < phases.size(); p++) {
      if (phases.get(p).startNanos() - nanos <= 0) {
        found = p;
      }
    }
    return found;
  }

  /** Index of the last event at or before {@code nanos}, or -1; events are sorted by time. */
  private static int lastAtOrBefore(List<Event> events, long nanos) {
    int lo = 0;
    int hi = events.size() - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (events.get(mid).atNanos() <= nanos) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** How long before the read started the value it returned had been superseded; 0 if current. */
  private static long staleness(Read read, List<Event> events) {
    if (read.version() == -1) {
      return 0; // nothing returned: either nothing was written yet or Redis was wiped
    }
    int returned = -1;
    int lo = 0;
    int hi = events.size() - 1;
    while (lo <= hi) { // writes' versions grow with time
      int mid = (lo + hi) >>> 1;
      long v = events.get(mid).version();
      if (v == WIPE || v > read.version()) {
        hi = mid - 1;
      } else if (v < read.version()) {
        lo = mid + 1;
      } else {
        returned = mid;
        break;
      }
    }
    if (returned < 0) {
      for (int i = 0; i < events.size(); i++) {
        if (events.get(i).version() == read.version()) {
          returned = i;
        }
      }
    }
    if (returned < 0 || returned + 1 >= events.size()) {
      return 0;
    }
    long supersededAt = events.get(returned + 1).atNanos();
    return supersededAt < read.startNanos() ? read.startNanos() - supersededAt : 0;
  }

  /**
   * Runs the current phase for at least {@code duration}, then until it has
   * {@value #MIN_WRITES_PER_PHASE} acknowledged writes of its keys (a slow machine, or a phase over
   * one key, may need longer; at most 20 s more), then 300 ms more for reads to check them.
   */
  void runPhase(Duration duration) {
    runFor(duration);
    Phase current;
    synchronized (phases) {
      current = phases.get(phases.size() - 1);
    }
    org.awaitility.Awaitility.await().pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(20))
        .until(() -> acknowledgedSince(current) >= MIN_WRITES_PER_PHASE);
    runFor(Duration.ofMillis(300));
  }

  private long acknowledgedSince(Phase phase) {
    long count = 0;
    for (Map.Entry<String, List<Event>> key : history.entrySet()) {
      if (phase.keys().test(key.getKey())) {
        synchronized (key.getValue()) {
          for (Event e : key.getValue()) {
            if (e.version() != WIPE && e.atNanos() - phase.startNanos() >= 0) {
              count++;
            }
          }
        }
      }
    }
    return count;
  }

  void runFor(Duration duration) {
    long until = System.nanoTime() + duration.toNanos();
    org.awaitility.Awaitility.await().pollInterval(Duration.ofMillis(50)).atMost(duration.plusSeconds(10))
        .until(() -> System.nanoTime() - until >= 0);
  }
}
