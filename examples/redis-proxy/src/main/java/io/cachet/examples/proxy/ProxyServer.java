package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.cachet.AsyncCache;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import io.cachet.codec.Codecs;
import io.cachet.examples.support.ConnectionLimit;
import io.cachet.examples.support.Connections;
import io.cachet.metrics.CacheMetrics;
import io.cachet.redis.Coherence;
import io.cachet.redis.RedisOptions;
import io.cachet.servers.RedisBinary;
import io.cachet.servers.RedisProcess;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: the cache, the HTTP and RESP servers, and the embedded Redis if there is
 * one. {@link #close()} stops accepting, closes every client, then the cache manager (Redisson),
 * then the embedded Redis. Thread-safe; {@code close} is idempotent.
 *
 * <p>Threads: one acceptor thread, {@code THREADS} event loops shared by both servers (each
 * connection lives on one), and Redisson's own event loops, which complete cache misses.
 */
final class ProxyServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);
  private static final byte[] RESP_TOO_MANY_CLIENTS = "-ERR max number of clients reached\r\n".getBytes(US_ASCII);
  private static final byte[] HTTP_TOO_MANY_CLIENTS = HttpHandler.tooManyClientsResponse();

  private final ProxyConfig config;
  private final @Nullable RedisProcess embedded;
  private final CacheManager manager;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final List<Channel> listeners = new ArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Object lock = new Object();
  private boolean closing; // guarded by lock

  private ProxyServer(ProxyConfig config, @Nullable RedisProcess embedded, CacheManager manager,
      EventLoopGroup boss, EventLoopGroup workers) {
    this.config = config;
    this.embedded = embedded;
    this.manager = manager;
    this.boss = boss;
    this.workers = workers;
  }

  /**
   * Starts everything and returns once both servers are listening.
   *
   * @throws IllegalStateException naming the cause when Redis cannot be reached or a port bound
   */
  static ProxyServer start(ProxyConfig config) {
    RedisProcess embedded = null;
    CacheManager manager = null;
    EventLoopGroup boss = null;
    EventLoopGroup workers = null;
    try {
      String address;
      if (config.embeddedRedis()) {
        embedded = startEmbeddedRedis(config.seed());
        address = embedded.address();
      } else {
        address = config.redisAddress().orElseThrow();
      }
      manager = CacheManager.create();
      Cache<RedisKey, byte[]> cache;
      try {
        cache = manager.create(CacheConfig.builder("redis-proxy")
            .backend("redis")
            .maximumSize(config.capacity())
            .evictionPolicy(EvictionPolicy.LRU)
            .keyCodec(RedisKey.CODEC)
            .valueCodec(Codecs.bytes())
            .backendOptions(RedisOptions.builder()
                .address(address)
                .coherence(config.coherence())
                .nearCacheMaxAge(config.globalExpiry())
                // Without invalidations a cached miss could hide a key created later: expiry-only
                // coherence caches values, never absences.
                .negativeCacheMaxAge(config.coherence() == Coherence.EXPIRY
                    ? Duration.ZERO : RedisOptions.DEFAULT_NEGATIVE_CACHE_MAX_AGE)
                .commandTimeout(config.redisTimeout())
                .serveStaleOnError(false)
                .build())
            .build());
      } catch (BackendUnavailableException e) {
        throw new IllegalStateException(e.getMessage() + " (check REDIS_ADDRESS / --redis-address)", e);
      }
      ProxyMetrics metrics = new ProxyMetrics();
      CacheMetrics.monitor(metrics.registry(), cache);
      Parallelism parallelism = new Parallelism(config.parallelism());
      ConnectionLimit clients = new ConnectionLimit(config.maxClients());
      metrics.bindGauges(clients::connected, parallelism);

      boolean epoll = Epoll.isAvailable();
      boss = epoll ? new EpollEventLoopGroup(1, new DefaultThreadFactory("proxy-accept"))
          : new NioEventLoopGroup(1, new DefaultThreadFactory("proxy-accept"));
      workers = epoll ? new EpollEventLoopGroup(config.threads(), new DefaultThreadFactory("proxy-io"))
          : new NioEventLoopGroup(config.threads(), new DefaultThreadFactory("proxy-io"));
      Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;

      ProxyServer server = new ProxyServer(config, embedded, manager, boss, workers);
      AsyncCache<RedisKey, byte[]> async = cache.async();
      server.listen("PROXY_PORT / --proxy-port", config.httpPort(), config.httpIdleTimeout(), channelType,
          clients, null, metrics, HTTP_TOO_MANY_CLIENTS, deadline -> {
            HttpHandler handler = new HttpHandler(async, parallelism, metrics, config.maxPendingRequests());
            return List.of(new TrackingHttpRequestDecoder(deadline, handler::acceptingRequests),
                new HttpResponseEncoder(), handler);
          });
      if (config.respPort() != 0) {
        server.listen("RESP_PORT / --resp-port", config.respPort(), config.idleTimeout(), channelType, clients,
            new ConnectionLimit(config.maxClients() - httpReserve(config.maxClients())), metrics, RESP_TOO_MANY_CLIENTS, deadline -> {
              RespHandler handler = new RespHandler(async, parallelism, metrics, config.maxPendingRequests());
              return List.of(new RespDecoder(config.maxRequestBytes(), deadline, handler::directRead,
                  handler::acceptingRequests), handler);
            });
      }
      log.info("redis-proxy ready: HTTP http://{}:{}/proxy?key=K, RESP {}, backing Redis {}{}; "
              + "cache capacity {} keys (exact LRU), global expiry {} s, coherence {}, parallelism {}, max clients {}, {} threads ({})",
          config.host(), config.httpPort(),
          config.respPort() == 0 ? "off" : config.host() + ":" + config.respPort(),
          RedisOptions.builder().address(address).build().address(), // without credentials
          embedded != null ? " (embedded)" : "",
          config.capacity(), ProxyMetrics.seconds(config.globalExpiry()), config.coherence().name().toLowerCase(),
          config.parallelism() == 0 ? "unlimited" : config.parallelism(), config.maxClients(), config.threads(),
          epoll ? "epoll" : "nio");
      return server;
    } catch (RuntimeException e) {
      if (boss != null) {
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      if (workers != null) {
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      if (manager != null) {
        manager.close();
      }
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
  }

  /**
   * Starts the {@code redis-server} bundled in the jar (Redis 6.2, which supports client tracking)
   * on 127.0.0.1 and a free port, with no persistence, and writes {@code seeded_key1..seed =
   * seeded_value1..seed} into it.
   */
  private static RedisProcess startEmbeddedRedis(int seed) {
    RedisProcess redis;
    try {
      redis = RedisProcess.create(RedisBinary.EMBEDDED);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "; start a Redis yourself and set REDIS_ADDRESS", e);
    }
    try {
      redis.start();
      log.info("Embedded Redis (pid {}) ready on {}", redis.pid(), redis.address());
      if (seed > 0) {
        redis.pipeline(IntStream.rangeClosed(1, seed)
            .mapToObj(i -> List.of("SET", "seeded_key" + i, "seeded_value" + i))
            .iterator());
        log.info("Seeded the embedded Redis with seeded_key1..seeded_key{}", seed);
      }
      return redis;
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  /** Connections RESP clients leave to HTTP, at most: they may hold {@code MAX_CLIENTS} less this many. */
  static final int HTTP_RESERVE = 8;

  /** The connections RESP clients leave to HTTP: {@link #HTTP_RESERVE}, or half of a smaller limit. */
  static int httpReserve(int maxClients) {
    return Math.min(HTTP_RESERVE, maxClients / 2);
  }

  /** Builds a connection's protocol handlers, given its request deadline (null: none). */
  private interface Handlers {
    List<io.netty.channel.ChannelHandler> create(@Nullable RequestDeadline deadline);
  }

  /**
   * @param clients the server's limit, shared by its listeners
   * @param own this listener's own limit within it, or null: RESP clients, which may stay silent for
   *     ever, must not take the last connections from HTTP and its {@code /health}
   */
  private void listen(String option, int port, Duration idleTimeout, Class<? extends ServerChannel> channelType,
      ConnectionLimit clients, @Nullable ConnectionLimit own, ProxyMetrics metrics, byte[] refusal,
      Handlers handlers) {
    long idleMillis = idleTimeout.toMillis();
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(boss, workers)
        .channel(channelType)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        // The per-connection bound on queued replies: past the high mark a connection takes no
        // further request until its socket drained below the low mark (see ClientHandler).
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(config.maxQueuedReplyBytes() / 2, config.maxQueuedReplyBytes()))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ChannelPipeline pipeline = ch.pipeline();
            if (!clients.tryAdmit()) {
              metrics.rejectedClient();
              pipeline.addLast(new ConnectionLimit.Rejecter(refusal));
              return;
            }
            if (own != null && !own.tryAdmit()) {
              clients.release();
              metrics.rejectedClient();
              pipeline.addLast(new ConnectionLimit.Rejecter(refusal));
              return;
            }
            ch.closeFuture().addListener(f -> {
              clients.release();
              if (own != null) {
                own.release();
              }
            });
            // A client that half-closes after its requests still gets their replies (ClientHandler);
            // a refused one is closed at its end-of-stream, as before.
            ch.config().setAllowHalfClosure(true);
            if (idleMillis > 0) {
              pipeline.addLast(new TransferAwareIdleHandler(idleMillis));
            }
            if (!config.replyStallTimeout().isZero()) {
              // A client that stops reading would otherwise hold its slot, its queued replies and
              // the one reply past the bound for ever (IDLE_TIMEOUT is 0 for RESP by default).
              Connections.closeWhenStalled(ch, config.replyStallTimeout());
            }
            RequestDeadline deadline = RequestDeadline.of(config.requestTimeout());
            handlers.create(deadline).forEach(pipeline::addLast);
          }
        });
    try {
      Channel channel = bootstrap.bind(new InetSocketAddress(config.host(), port)).syncUninterruptibly().channel();
      listeners.add(channel);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot listen on " + config.host() + ":" + port + " (" + option + "): " + e.getMessage(), e);
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

  @Override
  public void close() {
    synchronized (lock) {
      if (closing) {
        return;
      }
      closing = true;
    }
    log.info("redis-proxy shutting down");
    try {
      listeners.forEach(channel -> channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS));
      boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
      manager.close();
    } finally {
      if (embedded != null) {
        embedded.close();
      }
      closed.countDown();
    }
  }
}
