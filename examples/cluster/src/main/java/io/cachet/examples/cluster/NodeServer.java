package io.cachet.examples.cluster;

import io.cachet.examples.support.ConnectionLimit;
import io.cachet.metrics.CacheMetrics;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node: the HTTP server, and the cache opened behind it.
 *
 * <p>The server listens first and the cache is opened afterwards on a thread of its own, retried
 * every few seconds while Kafka cannot be reached; meanwhile {@code /health/live} answers 200 and
 * {@code /health/ready} and the API answer 503, so a balancer sees the node replay and only then
 * sends it traffic. {@link #close()} (SIGTERM, the launcher's {@code stop N}) shuts down
 * gracefully: from its start, cache requests and {@code /health/ready} answer 503 (a balancer
 * retries such a request on another node: nothing was done), the node stops accepting, and the
 * requests already taken up are answered, for at most the write timeout plus a second; only then
 * do its threads stop and the cache close (its Kafka clients). Thread-safe; {@code close} is
 * idempotent.
 */
final class NodeServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NodeServer.class);
  private static final Duration RETRY_MIN = Duration.ofMillis(500);
  private static final Duration RETRY_MAX = Duration.ofSeconds(5);
  private static final long PROGRESS_LOG_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final NodeConfig config;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel listener;
  private final AtomicReference<@Nullable NodeCache> cache;
  private final NodeMetrics metrics;
  private final NodeApi api;
  private final Thread opener;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Object lock = new Object();
  private boolean closing; // guarded by lock

  private NodeServer(NodeConfig config, EventLoopGroup boss, EventLoopGroup workers, Channel listener,
      AtomicReference<@Nullable NodeCache> cache, NodeMetrics metrics, NodeApi api, NodeCache.Opener openerFunction) {
    this.config = config;
    this.boss = boss;
    this.workers = workers;
    this.listener = listener;
    this.cache = cache;
    this.metrics = metrics;
    this.api = api;
    this.opener = new Thread(() -> openCache(openerFunction), "node-open-cache");
    this.opener.setDaemon(true);
  }

  /**
   * Binds the HTTP server and starts opening the cache in the background.
   *
   * @throws IllegalStateException naming the option when the port cannot be bound
   */
  static NodeServer start(NodeConfig config, NodeCache.Opener openerFunction, InstantSource clock) {
    AtomicReference<@Nullable NodeCache> cache = new AtomicReference<>();
    NodeMetrics metrics = new NodeMetrics(() -> {
      NodeCache c = cache.get();
      return c == null ? ReplicaState.STARTING : c.state();
    });
    NodeApi api = new NodeApi(config, cache::get, metrics::scrape, clock);
    EventLoopGroup boss = NettyTransport.group(1, "node-accept");
    EventLoopGroup workers = NettyTransport.group(config.threads(), "node-io");
    ConnectionLimit connections = new ConnectionLimit(config.limits().maxConnections());
    metrics.bindConnections(connections::connected);
    Channel listener = NettyTransport.bindHttp(boss, workers, config.host(), config.port(), "--port / NODE_PORT",
        config.maxBodyBytes(), config.limits(), connections,
        () -> new NodeHttpHandler(api, metrics, config.nodeId(), config.limits().maxPendingRequests()));
    NodeServer server = new NodeServer(config, boss, workers, listener, cache, metrics, api, openerFunction);
    server.opener.start();
    return server;
  }

  /** Returns the bound port. */
  int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Returns the node's base URL, e.g. {@code http://127.0.0.1:8081}. */
  String url() {
    return "http://" + config.host() + ":" + port();
  }

  /** Returns the cache once it is open, else null. */
  @Nullable NodeCache cache() {
    return cache.get();
  }

  private void openCache(NodeCache.Opener openerFunction) {
    Duration backoff = RETRY_MIN;
    NodeCache opened = null;
    while (opened == null && !isClosing()) {
      try {
        opened = openerFunction.open(config);
      } catch (RuntimeException e) {
        if (isClosing()) {
          return;
        }
        log.warn("Cannot open cache '{}' on Kafka {} yet ({}); retrying in {} ms", config.cacheName(), config.kafka(),
            e.getMessage(), backoff.toMillis());
        log.debug("Open failure", e);
        if (!pause(backoff)) {
          return;
        }
        backoff = backoff.multipliedBy(2).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : backoff.multipliedBy(2);
      }
    }
    if (opened == null) {
      return;
    }
    synchronized (lock) {
      if (closing) {
        opened.close();
        return;
      }
      cache.set(opened);
    }
    if (opened instanceof ReplicatedNodeCache replicated) {
      try {
        CacheMetrics.monitor(metrics.registry(), replicated.cache());
      } catch (RuntimeException e) {
        log.warn("Cannot bind the cache's metrics: {}", e.toString());
      }
    }
    long lastLog = System.nanoTime();
    while (!isClosing()) {
      ReplicaState state = opened.state();
      if (state.ready()) {
        log.info("Node {} ready: replayed {} records, {} entries; serving {}/api/cache/{key}", config.nodeId(),
            state.replayedRecords(), state.entries(), url());
        return;
      }
      if (System.nanoTime() - lastLog >= PROGRESS_LOG_NANOS) {
        lastLog = System.nanoTime();
        log.info("Node {} replaying: {} of {} records ({}%)", config.nodeId(), state.replayedRecords(),
            state.replayTarget(), Math.round(state.progress() * 100));
      }
      if (!pause(Duration.ofMillis(50))) {
        return;
      }
    }
  }

  private boolean isClosing() {
    synchronized (lock) {
      return closing;
    }
  }

  private boolean pause(Duration duration) {
    try {
      return !closed.await(duration.toMillis(), TimeUnit.MILLISECONDS) && !isClosing();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Blocks until {@link #close()} has finished. */
  void awaitClose() {
    try {
      closed.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * How long a stopping node waits for the requests it has taken up to be answered: a write may
   * take its whole timeout, and 1 s more covers its reply.
   */
  static Duration answerPatience(Duration writeTimeout) {
    return writeTimeout.plusSeconds(1);
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closing) {
        return;
      }
      closing = true;
    }
    log.info("Node {} shutting down", config.nodeId());
    try {
      api.stop();
      listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
      Duration patience = answerPatience(config.writeTimeout());
      int unanswered = api.awaitAnswered(System.nanoTime() + patience.toNanos());
      if (unanswered > 0) {
        log.warn("Node {}: {} request(s) still unanswered {} s into the shutdown; closing their connections",
            config.nodeId(), unanswered, patience.toSeconds());
      }
      NettyTransport.shutdown(listener, boss, workers);
      NodeCache current = cache.getAndSet(null);
      if (current != null) {
        current.close();
      }
    } finally {
      closed.countDown();
    }
  }
}
