package io.cachet.redis;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The invalidation side of one Redis client: one {@link InvalidationChannel} per primary, shared by
 * every cache of the client, following the primaries Redisson routes to.
 *
 * <h2>Design notes</h2>
 *
 * The hub is <em>coherent</em> while every primary in its view has a channel with tracking on.
 * Caches serve their near entries only while the hub is coherent (see RedisCache), and every
 * transition out of coherence is reported to every cache ({@link Listener#down}) before anything
 * else happens, because invalidations may have been lost from then on; the way back
 * ({@link Listener#up}) moves each cache's epoch, so nothing cached before is served again.
 *
 * <p>The view of the primaries is Redisson's: {@code getRedisNodes(...)} read on this hub's thread
 * every {@code topologyInterval}, and Redisson's connection events. When Redisson opens its first
 * connection to a data node the hub does not track (a Sentinel failover, a Cluster failover or a
 * node added by a topology refresh), the hub starts tracking that node and turns incoherent when
 * Redisson reports the connection. Redisson reports it on its executor just after handing the
 * connection out, so a read over it may be cached in between (milliseconds); turning incoherent
 * then makes that value unservable (a cache's epoch moves before it serves again), but a read of
 * it in that window may be served from the near cache without its invalidations being tracked;
 * the periodic reconcile bounds the window for a node whose event is late. The event is taken
 * for any node type but Sentinel: Redisson
 * opens a new primary's connections before its own routing names the node a primary, so it
 * reports them as a replica's. For the same reason the view lags such a node: a node tracked
 * from an event is kept until the view has shown it. If it never does (a replica, which then
 * costs one idle channel meanwhile), it is dropped after {@code 10 x topologyInterval} or twice
 * {@code connectTimeout + commandTimeout + 500 ms}, whichever is longer: twice the time Redisson
 * may take to open the node's connections and route to it. A node that leaves the view loses its
 * channel; its keys now live on a tracked node. Slot migration needs nothing more: both nodes are
 * tracked in broadcast mode, so the source reports the key's deletion ({@code MIGRATE}) and the
 * target every later write.
 *
 * <p>Channels track the union of the caches' key prefixes ({@code BCAST PREFIX}), reduced so no
 * prefix contains another (Redis refuses overlapping ones); a cache whose prefix is not covered
 * reconnects every channel with the wider set, which flushes every cache of the client once.
 *
 * <p>Thread-safe. {@code lock} guards the node map, the prefix set and the coherence flag, and is
 * held while the caches' listeners run; they only touch their own concurrent state and never
 * block or take another lock (the near store's internal locks aside). Channels are started and
 * closed outside the lock. Per-key invalidations are fanned out without the lock.
 */
final class TrackingHub implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TrackingHub.class);
  /** At most one WARN per node for caches failing to take its invalidations, per this interval: 10 s. */
  private static final long LISTENER_WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  /**
   * What a cache learns from the hub. Calls may overlap: each node's channel calls from its own
   * thread, and {@code up}/{@code down} come under the hub's lock; a listener must be thread-safe.
   */
  interface Listener extends InvalidationChannel.Listener {}

  private final String name;
  private final @Nullable Tls tls;
  private final @Nullable String username;
  private final @Nullable String password;
  private final Duration connectTimeout;
  private final Duration pingInterval;
  private final ScheduledExecutorService thread;
  /** How long a node tracked from a connection event is kept while the view does not show it. */
  private final long eventPinNanos;
  private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();

  private final Object lock = new Object();
  private final Map<String, Node> nodes = new HashMap<>(); // guarded by lock
  private final List<byte[]> prefixes = new ArrayList<>(); // guarded by lock
  private volatile @Nullable Supplier<Set<String>> topology; // set once the client exists
  private volatile boolean coherent; // written under lock
  private volatile @Nullable String unsupported; // written under lock
  private volatile boolean closed;
  /** While set, every new channel fails to connect; for tests. */
  private volatile boolean holdDown;
  /** Channel threads that are still to fail to start, as with no native thread left; for tests. */
  final AtomicInteger failingStartsForTest = new AtomicInteger();

  TrackingHub(String name, RedisOptions options, @Nullable Tls tls, Duration pingInterval, Duration topologyInterval) {
    this.name = name;
    this.tls = tls;
    this.username = options.username().orElse(null);
    this.password = options.password().orElse(null);
    this.connectTimeout = options.connectTimeout();
    this.pingInterval = pingInterval;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cachet-redis-topology");
      t.setDaemon(true);
      return t;
    });
    long every = Math.max(1, topologyInterval.toMillis());
    // Long enough for Redisson to open the node's pool and route to it (each connection bounded by
    // connectTimeout and its handshake by commandTimeout plus slack), twice over.
    Duration poolSetUp = options.connectTimeout().plus(options.commandTimeout()).plusMillis(500);
    this.eventPinNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10 * every), 2 * poolSetUp.toNanos());
    thread.scheduleWithFixedDelay(this::reconcileQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  /** Starts following {@code primaries}, Redisson's view ({@code host:port} each). */
  void follow(Supplier<Set<String>> primaries) {
    this.topology = primaries;
    thread.execute(this::reconcileQuietly);
  }

  /**
   * Adds a cache whose keys start with {@code prefix}: tells it {@code up} at once when the hub is
   * coherent, and widens the tracked prefixes if needed.
   */
  void register(Listener listener, byte[] prefix) {
    List<Node> restarted = List.of();
    List<Node> retired = List.of();
    synchronized (lock) {
      listeners.add(listener);
      if (!covered(prefix)) {
        prefixes.removeIf(p -> startsWith(p, prefix));
        prefixes.add(prefix.clone());
        if (!nodes.isEmpty()) {
          markIncoherent(new IllegalStateException("tracking a new key prefix"));
          retired = new ArrayList<>(nodes.values());
          nodes.clear();
          restarted = new ArrayList<>();
          for (Node old : retired) {
            Node fresh = new Node(old.address, old.pinnedUntil);
            fresh.seen = old.seen;
            nodes.put(old.address, fresh);
            restarted.add(fresh);
          }
        }
      }
      String reason = unsupported;
      if (reason != null) {
        listener.unsupported(reason);
      } else if (coherent) {
        listener.up();
      }
    }
    retired.forEach(Node::close);
    startAll(restarted);
    if (topology != null) {
      thread.execute(this::reconcileQuietly);
    }
  }

  /**
   * Removes a cache; its prefix stays tracked (harmless) until the client closes. When the last one
   * leaves, the channels are closed and the hub stops following the topology ({@link #reconcile}
   * and {@link #nodeConnected} do nothing without caches), so it is no longer taken as coherent: a
   * cache registered later is told {@code up} only once a reconcile has opened the channels of the
   * view of that time and they are up.
   */
  void unregister(Listener listener) {
    List<Node> idle = List.of();
    synchronized (lock) {
      listeners.remove(listener);
      if (listeners.isEmpty()) {
        coherent = false; // no one to tell
        // Nothing reads what the channels receive now: close them; the next cache's reconcile
        // opens them again for the view of that time.
        idle = new ArrayList<>(nodes.values());
        nodes.clear();
      }
    }
    idle.forEach(Node::close);
  }

  /**
   * Called on Redisson's executor when it has opened its first connection to a data node (just
   * after the connection is handed out, so it may already carry a read): an untracked node is
   * tracked from now on, and the hub is incoherent until its channel is up. Never blocks.
   */
  void nodeConnected(InetSocketAddress address) {
    String key = hostPort(address);
    Node node;
    synchronized (lock) {
      if (closed || nodes.containsKey(key) || topology == null || listeners.isEmpty()) {
        return;
      }
      node = new Node(key, System.nanoTime() + eventPinNanos);
      nodes.put(key, node);
      markIncoherent(new IllegalStateException("Redis client connected to untracked node " + key));
      log.info("Redis client {} tracks node {}, which it just connected to", name, key);
    }
    startAll(List.of(node));
    try {
      thread.execute(this::reconcileQuietly);
    } catch (RejectedExecutionException e) {
      // closed meanwhile: close() closes the node too
    }
  }

  /**
   * One periodic reconcile. Catches everything, {@link Error}s included: anything thrown would
   * cancel the periodic task, silently, and the hub would stop following the topology for good.
   */
  private void reconcileQuietly() {
    try {
      reconcile();
    } catch (RuntimeException e) {
      if (!closed) {
        log.debug("Reading the Redis topology of {} failed; retrying", name, e);
      }
    } catch (Error e) { // kept running, as the channels' threads are
      if (!closed) {
        log.warn("Reading the Redis topology of {} failed with an error; retrying", name, e);
      }
    }
  }

  /** Brings the channels in line with the primaries in Redisson's view. */
  void reconcile() {
    Supplier<Set<String>> view = topology;
    if (view == null || closed || listeners.isEmpty()) {
      return; // no cache tracks yet (expiry-only caches never do): no connection is opened
    }
    Set<String> primaries = view.get();
    if (primaries.isEmpty()) {
      return; // Redisson knows no primary right now (mid-failover): keep what we have
    }
    List<Node> added = new ArrayList<>();
    List<Node> removed = new ArrayList<>();
    synchronized (lock) {
      if (closed || listeners.isEmpty()) {
        return; // the last cache left while the view was read: no channel to open for nobody
      }
      for (String address : primaries) {
        Node tracked = nodes.get(address);
        if (tracked == null || tracked.channel.ended()) {
          // A channel whose thread ended (it went down then) is replaced, or it never comes up.
          Node node = new Node(address, 0);
          nodes.put(address, node);
          added.add(node);
          if (tracked != null) {
            removed.add(tracked);
          }
        } else {
          tracked.seen = true;
        }
      }
      if (!added.isEmpty()) {
        markIncoherent(new IllegalStateException("new primaries " + added));
        log.info("Redis client {} tracks new primaries {}", name, added);
      }
      long now = System.nanoTime();
      for (Node node : new ArrayList<>(nodes.values())) {
        if (!primaries.contains(node.address) && (node.seen || now - node.pinnedUntil >= 0)) {
          nodes.remove(node.address);
          removed.add(node);
        }
      }
      if (!removed.isEmpty()) {
        log.info("Redis client {} stops tracking former primaries {}", name, removed);
      }
      maybeCoherent();
    }
    removed.forEach(Node::close);
    startAll(added);
  }

  /**
   * Starts each node's channel. One whose thread cannot start (no native thread) is logged and
   * left: it counts as ended, so the next reading of the topology replaces it, and the hub stays
   * incoherent meanwhile. The others start all the same, and the caller (a cache registering, say)
   * does not fail.
   */
  private void startAll(List<Node> started) {
    for (Node node : started) {
      try {
        if (failingStartsForTest.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          node.channel.failStart(new OutOfMemoryError("unable to create native thread (a test's)"));
        }
        node.start();
      } catch (RuntimeException | OutOfMemoryError e) {
        log.warn("Redis client {} could not start tracking node {}; it tries again at the next reading of the"
            + " topology", name, node.address, e);
      }
    }
  }

  /** Whether every tracked primary's channel is up; for tests. */
  boolean isCoherent() {
    return coherent;
  }

  /** How long a node tracked from a connection event is kept unseen; for tests. */
  Duration eventPinForTest() {
    return Duration.ofNanos(eventPinNanos);
  }

  /** The addresses tracked now; for tests. */
  Set<String> trackedForTest() {
    synchronized (lock) {
      return Set.copyOf(nodes.keySet());
    }
  }

  /** The thread of the channel to {@code address}, or null; for tests. */
  @Nullable Thread channelThreadForTest(String address) {
    synchronized (lock) {
      Node node = nodes.get(address);
      return node == null ? null : node.channel.threadForTest();
    }
  }

  /** Drops every channel's connection and, while {@code hold}, keeps them from reconnecting; for tests. */
  void dropConnectionsForTest(boolean hold) {
    holdDown = hold;
    List<Node> current;
    synchronized (lock) {
      current = new ArrayList<>(nodes.values());
    }
    for (Node node : current) {
      node.channel.holdDownForTest = hold;
      if (hold) {
        node.channel.disconnectForTest();
      }
    }
  }

  @Override
  public void close() {
    List<Node> all;
    synchronized (lock) {
      closed = true;
      all = new ArrayList<>(nodes.values());
      nodes.clear();
    }
    thread.shutdownNow();
    all.forEach(Node::close);
  }

  /**
   * Reports the loss of coherence to every cache, once per loss. Holds lock. One cache failing to
   * take it (even with an Error) must not keep the others from being told: each of them would go
   * on serving near entries with nothing to invalidate them.
   */
  private void markIncoherent(Throwable cause) {
    if (coherent) {
      coherent = false;
      for (Listener listener : listeners) {
        try {
          listener.down(cause);
        } catch (Throwable t) {
          log.warn("A cache of Redis client '{}' failed to take the loss of tracking", name, t);
        }
      }
    }
  }

  /** Turns coherent when every channel is up. Holds lock. */
  private void maybeCoherent() {
    if (coherent || nodes.isEmpty() || unsupported != null || listeners.isEmpty()) {
      return; // without caches the hub follows nothing: see unregister
    }
    for (Node node : nodes.values()) {
      if (!node.up) {
        return;
      }
    }
    coherent = true;
    for (Listener listener : listeners) {
      try {
        listener.up();
      } catch (Throwable t) { // the others are told all the same; this one keeps its near cache off
        log.warn("A cache of Redis client '{}' failed to take the return of tracking", name, t);
      }
    }
  }

  private boolean covered(byte[] prefix) {
    for (byte[] p : prefixes) {
      if (startsWith(prefix, p)) {
        return true;
      }
    }
    return false;
  }

  static boolean startsWith(byte[] bytes, byte[] start) {
    return bytes.length >= start.length && Arrays.equals(bytes, 0, start.length, start, 0, start.length);
  }

  /** {@code host:port}, an IPv6 literal in brackets, as in a {@code redis://} URI. */
  static String hostPort(InetSocketAddress address) {
    String host = address.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  /** One node's channel and whether tracking is on there. */
  private final class Node implements InvalidationChannel.Listener {

    /** When a listener's failure was last logged at WARN ({@link System#nanoTime()}; 0: never). */
    private volatile long lastListenerWarning;
    final String address;
    final InvalidationChannel channel;
    /** For a node tracked from a connection event: kept until then even if the view never shows it. */
    final long pinnedUntil;
    boolean up; // guarded by lock
    /** Whether the view has shown this node (from then on, it leaves with the view). Guarded by lock. */
    boolean seen;

    /** @param pinnedUntil {@code System.nanoTime()} until which the node stays unseen; 0 for a node from the view */
    Node(String address, long pinnedUntil) {
      this.address = address;
      this.pinnedUntil = pinnedUntil;
      this.seen = pinnedUntil == 0;
      List<byte[]> tracked = List.copyOf(prefixes);
      this.channel = new InvalidationChannel(
          name + "-" + address,
          address,
          tls != null ? tls.sockets() : null,
          username,
          password,
          tracked.isEmpty() ? List.of(new byte[0]) : tracked,
          connectTimeout,
          pingInterval,
          this);
      channel.holdDownForTest = holdDown;
    }

    void start() {
      channel.start();
    }

    void close() {
      channel.close();
    }

    private boolean current() {
      return nodes.get(address) == this;
    }

    @Override
    public void up() {
      synchronized (lock) {
        if (current()) {
          up = true;
          maybeCoherent();
        }
      }
    }

    @Override
    public void down(Throwable cause) {
      synchronized (lock) {
        if (current()) {
          up = false;
          markIncoherent(cause);
        }
      }
    }

    /**
     * Tells every cache; one that fails (its key codec throws an {@code Error} on another client's
     * key, say) forgets all it holds instead, as it cannot tell which key it lost, and the others
     * are told all the same: the shared connection is not dropped for one cache's failure. Only a
     * cache that cannot forget either (or running out of memory) takes the connection down, once
     * every cache was told: every cache then forgets, and none is left unsure.
     */
    @Override
    public void invalidate(byte[] redisKey) {
      Throwable unsure = null;
      for (Listener listener : listeners) {
        try {
          listener.invalidate(redisKey);
        } catch (OutOfMemoryError e) {
          throw e;
        } catch (Throwable t) {
          warnListenerFailed(t);
          try {
            listener.invalidateAll();
          } catch (Throwable again) {
            unsure = unsure == null ? again : unsure;
          }
        }
      }
      rethrow(unsure);
    }

    @Override
    public void invalidateAll() {
      Throwable unsure = null;
      for (Listener listener : listeners) {
        try {
          listener.invalidateAll();
        } catch (OutOfMemoryError e) {
          throw e;
        } catch (Throwable t) {
          unsure = unsure == null ? t : unsure;
        }
      }
      rethrow(unsure);
    }

    private static void rethrow(@Nullable Throwable failure) {
      if (failure instanceof RuntimeException e) {
        throw e;
      }
      if (failure instanceof Error e) {
        throw e;
      }
      if (failure != null) {
        throw new IllegalStateException(failure);
      }
    }

    /** Logs a cache's failure to take an invalidation at WARN, at most once per interval per node. */
    private void warnListenerFailed(Throwable cause) {
      long now = System.nanoTime();
      long last = lastListenerWarning;
      if (last == 0 || now - last >= LISTENER_WARNING_INTERVAL_NANOS) {
        lastListenerWarning = now == 0 ? 1 : now;
        log.warn("A cache of Redis client '{}' failed to take an invalidation from node {}; it forgot every"
            + " near entry instead (more such failures in the next 10 s are logged at DEBUG)", name, address, cause);
      } else {
        log.debug("A cache of Redis client '{}' failed to take an invalidation from node {}", name, address, cause);
      }
    }

    @Override
    public void unsupported(String reason) {
      synchronized (lock) {
        if (current() && unsupported == null) {
          unsupported = reason;
          coherent = false;
          for (Listener listener : listeners) {
            try {
              listener.unsupported(reason);
            } catch (Throwable t) {
              log.warn("A cache of Redis client '{}' failed to take the loss of tracking support", name, t);
            }
          }
        }
      }
    }

    @Override
    public String toString() {
      return address;
    }
  }
}
