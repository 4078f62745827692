package io.cachet.examples.cluster;

import io.cachet.examples.support.ConnectionLimit;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A round-robin HTTP balancer in front of the nodes (Netty, non-blocking). Requests go to the
 * next ready node; a node is ready while its {@code /health/ready} answers 200, polled every
 * {@link #POLL_INTERVAL}. Any request is retried on the next node when it certainly never
 * reached a node (the connection failed first) or the node answered 503 {@code NotReady} (it did
 * nothing); a GET also after a timeout or a connection lost mid-answer. A DELETE or POST that may
 * have reached a node is not retried: it gets 502/504 saying it may or may not have been applied
 * (a retried DELETE would answer 404 for a delete that succeeded). Every forwarded response carries {@code X-Cachet-Node}.
 * {@code /admin/...} is answered by the balancer itself from a {@link ClusterControl}. Its
 * clients are bounded as a node's are ({@link ServerLimits}).
 * Thread-safe; {@code close} is idempotent.
 */
final class Balancer implements AutoCloseable {

  /** How often every node's readiness is polled. */
  static final Duration POLL_INTERVAL = Duration.ofMillis(500);
  private static final Duration POLL_TIMEOUT = Duration.ofSeconds(2);
  private static final Logger log = LoggerFactory.getLogger(Balancer.class);

  private final String host;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel listener;
  private final BackendSelector selector;
  private final Upstream upstream;
  private final ScheduledFuture<?> poller;
  private final Map<Backend, Boolean> polling = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private Balancer(String host, EventLoopGroup boss, EventLoopGroup workers, Channel listener, BackendSelector selector,
      Upstream upstream, EventLoop pollLoop) {
    this.host = host;
    this.boss = boss;
    this.workers = workers;
    this.listener = listener;
    this.selector = selector;
    this.upstream = upstream;
    this.poller = pollLoop.scheduleWithFixedDelay(() -> pollAll(pollLoop), 0, POLL_INTERVAL.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * Binds the balancer and starts polling the nodes' readiness.
   *
   * @param maxBodyBytes the largest request body forwarded; larger gets 413 here
   * @param requestTimeout how long a node may take to answer one request
   * @throws IllegalStateException when the port cannot be bound
   */
  static Balancer start(String host, int port, List<Backend> backends, ClusterControl control, int maxBodyBytes,
      Duration requestTimeout, int threads, ServerLimits limits) {
    BackendSelector selector = new BackendSelector(backends);
    Upstream upstream =
        new Upstream(maxBodyBytes * 2 + 64 * 1024, Duration.ofSeconds(2), limits.idleTimeout(), System::nanoTime);
    EventLoopGroup boss = NettyTransport.group(1, "balancer-accept");
    EventLoopGroup workers = NettyTransport.group(threads, "balancer-io");
    Channel listener = NettyTransport.bindHttp(boss, workers, host, port, "--port / BALANCER_PORT", maxBodyBytes,
        limits, new ConnectionLimit(limits.maxConnections()),
        () -> new BalancerHandler(selector, upstream, control, requestTimeout, limits.maxPendingRequests()));
    return new Balancer(host, boss, workers, listener, selector, upstream, workers.next());
  }

  /** Returns the bound port. */
  int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Returns the balancer's base URL. */
  String url() {
    return "http://" + host + ":" + port();
  }

  /** Returns the nodes it balances over. */
  List<Backend> backends() {
    return selector.backends();
  }

  private void pollAll(EventLoop loop) {
    if (closed) {
      return;
    }
    for (Backend backend : selector.backends()) {
      if (polling.putIfAbsent(backend, Boolean.TRUE) != null) {
        continue; // the previous probe has not finished
      }
      FullHttpRequest probe = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/health/ready");
      probe.headers().set(HttpHeaderNames.HOST, backend.host + ":" + backend.port);
      upstream.send(loop, backend, probe, POLL_TIMEOUT).addListener(f -> {
        polling.remove(backend);
        boolean ready = false;
        if (f.isSuccess()) {
          FullHttpResponse response = (FullHttpResponse) f.getNow();
          ready = response.status().code() == 200;
          response.release();
        }
        if (ready != backend.ready()) {
          log.info("Balancer: {} is now {}", backend.id, ready ? "ready" : "not ready");
        }
        backend.ready(ready);
      });
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    poller.cancel(false);
    NettyTransport.shutdown(listener, boss, workers);
  }
}
