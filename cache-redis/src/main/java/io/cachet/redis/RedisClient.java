package io.cachet.redis;

import io.cachet.BackendUnavailableException;
import io.cachet.Ticker;
import io.cachet.spi.Checks;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.redisson.Redisson;
import org.redisson.api.NodeType;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.config.BaseConfig;
import org.redisson.config.BaseMasterSlaveServersConfig;
import org.redisson.config.ClusterServersConfig;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;
import org.redisson.config.ReadMode;
import org.redisson.config.SentinelServersConfig;
import org.redisson.config.SingleServerConfig;
import org.redisson.config.SslVerificationMode;
import org.redisson.config.SubscriptionMode;
import org.redisson.connection.ConnectionListener;

/**
 * One Redis client owned by a cache manager: a Redisson client configured for the address's
 * topology, and (for caches with {@link Coherence#TRACKING}) the {@link TrackingHub} that keeps
 * one invalidation connection per primary.
 *
 * <p>Reads and writes go to primaries only ({@link ReadMode#MASTER}): a replica may lag behind an
 * acknowledged write, and the near cache must never cache a value older than one whose
 * invalidation it has processed.
 */
final class RedisClient implements AutoCloseable {

  /** How often the hub re-reads Redisson's view of the primaries, and Redisson rescans the topology. */
  static final Duration TOPOLOGY_INTERVAL = Duration.ofSeconds(1);
  /** Silence after which an invalidation connection is probed; twice this and it is presumed dead. */
  static final Duration PING_INTERVAL = Duration.ofSeconds(1);
  /**
   * How much later than {@code commandTimeout} Redisson gives up on a command itself: after the
   * cache's own bound ({@code commandTimeout + 250 ms}, see RedisTransport), so the cache fails
   * the caller first, from its own pool (CommandTimeouts), and Redisson's later failure (built on
   * its single timer thread) finds the caller's future already failed.
   */
  static final Duration REDISSON_TIMEOUT_EXTRA = Duration.ofMillis(500);

  private final RedissonClient client;
  private final RedissonCommands commands;
  private final TrackingHub hub;
  private final RedisAddress address;
  private final CommandTimeouts timeouts;
  private @Nullable CoarseTicker nearTicker; // guarded by this
  private boolean closed; // guarded by this

  private RedisClient(RedissonClient client, TrackingHub hub, RedisAddress address, Duration commandTimeout) {
    this.client = client;
    this.commands = new RedissonCommands(client, commandTimeout);
    this.hub = hub;
    this.address = address;
    this.timeouts = new CommandTimeouts(toString());
  }

  /**
   * Connects, within {@code connectTimeout} (plus one command timeout for the topology's first
   * commands).
   *
   * @throws BackendUnavailableException naming the address, and the master name or seed at fault,
   *     when Redis cannot be reached or is not the topology the address says
   */
  static RedisClient connect(RedisOptions options) {
    RedisAddress address = options.parsedAddress();
    Tls tls = Tls.load(options);
    TrackingHub hub = new TrackingHub(address.toString(), options, tls, PING_INTERVAL, TOPOLOGY_INTERVAL);
    Config config = config(options, address, tls, hub);
    CompletableFuture<RedissonClient> started = new CompletableFuture<>();
    Thread starter = new Thread(() -> {
      try {
        started.complete(Redisson.create(config));
      } catch (Throwable e) {
        started.completeExceptionally(e);
      }
    }, "cachet-redis-connect");
    starter.setDaemon(true);
    starter.start();
    Duration bound = options.connectTimeout().plus(options.commandTimeout());
    RedissonClient client;
    try {
      client = started.get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      hub.close();
      // Redisson keeps trying on its own thread; shut down whatever it ends up with.
      started.thenAccept(RedissonClient::shutdown);
      throw new BackendUnavailableException(
          "cannot connect to Redis at " + address + " within " + bound, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      hub.close();
      started.thenAccept(RedissonClient::shutdown);
      throw new BackendUnavailableException("interrupted while connecting to Redis at " + address, e);
    } catch (ExecutionException e) {
      hub.close();
      throw startFailure(address, options, e.getCause());
    }
    RedisClient connected = new RedisClient(client, hub, address, options.commandTimeout());
    hub.follow(connected::primaries);
    return connected;
  }

  private static Config config(RedisOptions options, RedisAddress address, @Nullable Tls tls, TrackingHub hub) {
    Config config = new Config();
    config.setCodec(ByteArrayCodec.INSTANCE);
    // Sized for a cache client, not Redisson's defaults (32 event-loop threads, 24 idle connections).
    config.setNettyThreads(Math.max(2, Runtime.getRuntime().availableProcessors()));
    // Scripts (compare-and-set, conditional writes) are sent as EVALSHA once loaded.
    config.setUseScriptCache(true);
    if (address.topology() != RedisAddress.Topology.STANDALONE) {
      config.setConnectionListener(new ConnectionListener() {
        @Override
        public void onConnect(InetSocketAddress addr) {}

        @Override
        public void onConnect(InetSocketAddress addr, NodeType nodeType) {
          // Any data node: Redisson reports a new primary's first connections as a replica's.
          if (nodeType != NodeType.SENTINEL) {
            hub.nodeConnected(addr);
          }
        }

        @Override
        public void onDisconnect(InetSocketAddress addr) {}
      });
    }
    BaseConfig<?> base;
    switch (address.topology()) {
      case SENTINEL -> {
        SentinelServersConfig sentinel = config.useSentinelServers()
            .setMasterName(address.masterName())
            .setDatabase(options.database())
            .setScanInterval((int) TOPOLOGY_INTERVAL.toMillis())
            // One Sentinel is enough to start with; a deployment's others are discovered.
            .setCheckSentinelsList(false);
        address.nodes().forEach(node -> sentinel.addSentinelAddress(address.uri(node)));
        base = primariesOnly(sentinel);
      }
      case CLUSTER -> {
        ClusterServersConfig cluster = config.useClusterServers()
            .setScanInterval((int) TOPOLOGY_INTERVAL.toMillis())
            // A slot without a primary mid-failover must not keep the client from starting.
            .setCheckSlotsCoverage(false);
        address.nodes().forEach(node -> cluster.addNodeAddress(address.uri(node)));
        base = primariesOnly(cluster);
      }
      default -> {
        SingleServerConfig single = config.useSingleServer()
            .setAddress(address.uri(address.nodes().get(0)))
            .setDatabase(options.database())
            .setConnectionMinimumIdleSize(2)
            .setConnectionPoolSize(32)
            .setSubscriptionConnectionMinimumIdleSize(0)
            .setSubscriptionConnectionPoolSize(1);
        base = single;
      }
    }
    base.setTimeout(redissonTimeoutMillis(options.commandTimeout()))
        .setConnectTimeout((int) options.connectTimeout().toMillis())
        // No retries: after a response timeout Redisson would resend the command, and a
        // conditional write (SET NX, compare-and-set) that had in fact been applied would then
        // report false. Every call fails within commandTimeout instead.
        .setRetryAttempts(0)
        .setRetryDelay(new ConstantDelay(Duration.ofMillis(100)))
        .setPingConnectionInterval(1_000);
    options.username().ifPresent(base::setUsername);
    options.password().ifPresent(base::setPassword);
    if (tls != null) {
      base.setSslVerificationMode(SslVerificationMode.STRICT);
      if (tls.trust() != null) {
        base.setSslTrustManagerFactory(tls.trust());
      }
      if (tls.keys() != null) {
        base.setSslKeyManagerFactory(tls.keys());
      }
    }
    return config;
  }

  /** Redisson's own response (and connection-wait) timeout: see {@link #REDISSON_TIMEOUT_EXTRA}. */
  static int redissonTimeoutMillis(Duration commandTimeout) {
    return (int) Math.min(Integer.MAX_VALUE, Checks.saturatedNanos(commandTimeout.plus(REDISSON_TIMEOUT_EXTRA)) / 1_000_000);
  }

  private static <T extends BaseMasterSlaveServersConfig<T>> T primariesOnly(T config) {
    return config
        .setReadMode(ReadMode.MASTER)
        .setSubscriptionMode(SubscriptionMode.MASTER)
        .setMasterConnectionMinimumIdleSize(2)
        .setMasterConnectionPoolSize(32)
        .setSlaveConnectionMinimumIdleSize(1)
        .setSlaveConnectionPoolSize(2)
        .setSubscriptionConnectionMinimumIdleSize(0)
        .setSubscriptionConnectionPoolSize(1);
  }

  /** Turns Redisson's start-up failure into a message that names what is wrong. */
  private static BackendUnavailableException startFailure(RedisAddress address, RedisOptions options, Throwable cause) {
    String detail = String.valueOf(cause.getMessage());
    for (Throwable c = cause.getCause(); c != null; c = c.getCause()) {
      detail = detail + "; " + c.getMessage();
    }
    String lower = detail.toLowerCase(Locale.ROOT);
    String what;
    if (address.topology() == RedisAddress.Topology.SENTINEL
        && (lower.contains("get-master-addr-by-name") || lower.contains("master node is undefined")
            || lower.contains("master name"))) {
      what = "the Sentinels at " + String.join(",", address.nodes()) + " know no master named '" + address.masterName() + "'";
    } else if (address.topology() == RedisAddress.Topology.CLUSTER && lower.contains("cluster support disabled")) {
      what = "a seed node is not a Redis Cluster node (cluster support disabled)";
    } else {
      what = "cannot connect within " + options.connectTimeout();
    }
    return new BackendUnavailableException("Redis at " + address + ": " + what + ": " + cause.getMessage(), cause);
  }

  /** The primaries Redisson routes to now, {@code host:port} each. */
  Set<String> primaries() {
    Set<String> primaries = new LinkedHashSet<>();
    switch (address.topology()) {
      case SENTINEL -> primaries.add(TrackingHub.hostPort(
          client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE).getMaster().getAddr()));
      case CLUSTER -> client.getRedisNodes(RedisNodes.CLUSTER).getMasters()
          .forEach(master -> primaries.add(TrackingHub.hostPort(master.getAddr())));
      default -> primaries.add(address.nodes().get(0));
    }
    return primaries;
  }

  RedissonClient redisson() {
    return client;
  }

  /** The raw-key commands the caches send, through Redisson's executor (see RedissonCommands). */
  RedissonCommands commands() {
    return commands;
  }

  /** Bounds this client's commands and completes their failures (see CommandTimeouts). */
  CommandTimeouts timeouts() {
    return timeouts;
  }

  TrackingHub hub() {
    return hub;
  }

  RedisAddress address() {
    return address;
  }

  /**
   * The clock of this client's near stores (see CoarseTicker), started on the first call.
   *
   * @throws IllegalStateException once the client is closed
   */
  synchronized Ticker nearTicker() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
    if (nearTicker == null) {
      nearTicker = new CoarseTicker(address.toString());
    }
    return nearTicker;
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (nearTicker != null) {
        nearTicker.close();
      }
    }
    try {
      hub.close();
    } finally {
      try {
        client.shutdown();
      } finally {
        timeouts.close();
      }
    }
  }

  @Override
  public String toString() {
    return "Redis client for " + address;
  }
}
