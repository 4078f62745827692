package io.cachet.testkit.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.servers.RedisBinary;
import io.cachet.servers.RedisProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Sentinel-managed Redis on 127.0.0.1 for tests: a primary, its replicas and three
 * Sentinels (quorum 2) monitoring it under {@link #MASTER_NAME}, every process a
 * {@link RedisServer} that can be stopped, killed (SIGKILL) and restarted on its port.
 *
 * <pre>{@code
 * try (RedisSentinel sentinel = RedisSentinel.create().start()) {
 *     String address = sentinel.uri();   // "redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3#cachet"
 *     RedisServer old = sentinel.primary();
 *     old.kill();
 *     RedisServer promoted = sentinel.awaitFailover(old);   // about 2 s
 * }
 * }</pre>
 *
 * <p>The Sentinels consider a primary down after 2000 ms without an answer and fail over at
 * once, so a failover takes a few seconds. A restarted old primary comes back empty (no
 * persistence) and the Sentinels turn it into a replica of the new one.
 *
 * <p>Thread-safe for the queries; start, kill and close are for the test's own thread.
 */
public final class RedisSentinel implements AutoCloseable {
    /** The name the Sentinels monitor the primary under. */
    public static final String MASTER_NAME = "cachet";

    private static final int SENTINELS = 3;
    private static final String QUORUM = "2";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(60);

    private final Path executable;
    private final int replicaCount;
    private final List<RedisServer> dataNodes = new ArrayList<>();
    private final List<RedisServer> sentinels = new ArrayList<>();
    private volatile boolean started;

    private RedisSentinel(Path executable, int replicaCount) {
        this.executable = executable;
        this.replicaCount = replicaCount;
    }

    /**
     * Creates a stopped setup of one primary, one replica and three Sentinels, run by
     * {@link RedisBinary#AUTO}.
     *
     * @return the setup, not started yet
     */
    public static RedisSentinel create() {
        return create(RedisBinary.AUTO, 1);
    }

    /**
     * Creates a stopped setup.
     *
     * @param binary which executable to run (a {@code redis-server}, started with {@code --sentinel}
     *     for the Sentinels)
     * @param replicas how many replicas of the primary, at least 1 (a failover needs one)
     * @return the setup, not started yet
     */
    public static RedisSentinel create(RedisBinary binary, int replicas) {
        requireNonNull(binary, "binary");
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be >= 1, was " + replicas);
        }
        return new RedisSentinel(binary.executable(), replicas);
    }

    /**
     * Starts the primary, the replicas and the Sentinels, and waits until every Sentinel knows
     * every replica and the other Sentinels, and every replica is in sync.
     *
     * @return this setup
     * @throws IllegalStateException when already started or when it does not come up in time
     */
    public RedisSentinel start() {
        if (started) {
            throw new IllegalStateException("the Sentinel setup was already started");
        }
        started = true;
        try {
            RedisServer primary = add(dataNodes, RedisProcess.create(executable, 0, List.of(), List.of()));
            primary.start();
            for (int i = 0; i < replicaCount; i++) {
                RedisServer replica = add(dataNodes, RedisProcess.create(executable, 0, List.of(),
                        List.of("--replicaof", primary.host(), Integer.toString(primary.port()))));
                replica.start();
            }
            for (int i = 0; i < SENTINELS; i++) {
                RedisServer sentinel = add(sentinels, RedisProcess.create(executable, 0, List.of(
                        "sentinel monitor " + MASTER_NAME + " " + primary.host() + " " + primary.port() + " " + QUORUM,
                        "sentinel down-after-milliseconds " + MASTER_NAME + " 2000",
                        "sentinel failover-timeout " + MASTER_NAME + " 5000",
                        "sentinel parallel-syncs " + MASTER_NAME + " 1"), List.of("--sentinel")));
                sentinel.start();
            }
            awaitReady();
            return this;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Waits until every running Sentinel names the same running primary, knows every running
     * replica and every other running Sentinel, and every running replica is in sync with it.
     *
     * @throws IllegalStateException when that does not happen within a minute
     */
    public void awaitReady() {
        Await.until("a ready Sentinel setup", READY_TIMEOUT, this::ready, this::describe);
    }

    private boolean ready() {
        RedisServer primary = primary();
        if (!primary.isRunning() || !"master".equals(Nodes.role(primary))) {
            return false;
        }
        long replicas = dataNodes().stream().filter(RedisServer::isRunning).count() - 1;
        long runningSentinels = sentinels().stream().filter(RedisServer::isRunning).count();
        for (RedisServer sentinel : sentinels()) {
            if (!sentinel.isRunning()) {
                continue;
            }
            List<?> known = (List<?>) requireNonNull(sentinel.command("SENTINEL", "REPLICAS", MASTER_NAME));
            long healthy = known.stream().filter(r -> !flags(r).contains("down") && !flags(r).contains("disconnected")).count();
            List<?> peers = (List<?>) requireNonNull(sentinel.command("SENTINEL", "SENTINELS", MASTER_NAME));
            if (healthy < replicas || peers.size() < runningSentinels - 1 || !primary.address().equals(primaryAddress(sentinel))) {
                return false;
            }
        }
        for (RedisServer node : dataNodes()) {
            if (node != primary && node.isRunning()) {
                String replication = (String) node.command("INFO", "replication");
                if (replication == null || !replication.contains("master_link_status:up")
                        || !replication.contains("master_port:" + primary.port())) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Returns the primary as the first running Sentinel names it.
     *
     * @return the node the Sentinels consider the primary now
     * @throws IllegalStateException when no Sentinel is running or it names an unknown node
     */
    public RedisServer primary() {
        RedisServer sentinel = sentinels().stream().filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no Sentinel is running"));
        String address = primaryAddress(sentinel);
        return dataNodes().stream().filter(n -> n.address().equals(address)).findFirst()
                .orElseThrow(() -> new IllegalStateException("the Sentinels name an unknown primary " + address));
    }

    /**
     * Waits until every running Sentinel names another node than {@code previous} as the primary
     * and that node answers as one.
     *
     * @param previous the primary before the failover
     * @return the new primary
     * @throws IllegalStateException when no failover completes within a minute
     */
    public RedisServer awaitFailover(RedisServer previous) {
        Await.until("a failover away from " + previous.address(), FAILOVER_TIMEOUT,
                () -> failedOverFrom(previous), this::describe);
        return primary();
    }

    /**
     * Asks the Sentinels to fail over now (as {@code SENTINEL FAILOVER}) and waits for it. A
     * Sentinel aborts a requested failover when its last {@code INFO} from the replica is older
     * than five ping periods (it asks every ten seconds), so the request is repeated until one
     * succeeds.
     *
     * @return the new primary
     * @throws IllegalStateException when no failover completes within a minute
     */
    public RedisServer failover() {
        RedisServer previous = primary();
        Await.until("a requested failover away from " + previous.address(), FAILOVER_TIMEOUT, () -> {
            RedisServer sentinel = sentinels().stream().filter(RedisServer::isRunning).findFirst().orElseThrow();
            try {
                sentinel.command("SENTINEL", "FAILOVER", MASTER_NAME);
            } catch (RespErrorException e) {
                // INPROG: one is under way; NOGOODSLAVE: no replica qualifies yet. Wait and see.
            }
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() - until < 0) {
                if (failedOverFrom(previous)) {
                    return true;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a failover", e);
                }
            }
            return false;
        }, this::describe);
        awaitReady();
        return primary();
    }

    /** Every running Sentinel names the same new primary, which answers as a primary. */
    private boolean failedOverFrom(RedisServer previous) {
        RedisServer now = primary();
        if (now == previous || !now.isRunning() || !"master".equals(Nodes.role(now))) {
            return false;
        }
        for (RedisServer sentinel : sentinels()) {
            if (sentinel.isRunning() && !now.address().equals(primaryAddress(sentinel))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns the data nodes, the first-started primary first, whatever their current role.
     *
     * @return the primary and replicas
     */
    public List<RedisServer> dataNodes() {
        synchronized (dataNodes) {
            return List.copyOf(dataNodes);
        }
    }

    /**
     * Returns the Sentinels.
     *
     * @return the three Sentinels
     */
    public List<RedisServer> sentinels() {
        synchronized (sentinels) {
            return List.copyOf(sentinels);
        }
    }

    /**
     * Returns the Sentinels' addresses, {@code host:port} each.
     *
     * @return the addresses
     */
    public List<String> sentinelAddresses() {
        return sentinels().stream().map(RedisServer::address).toList();
    }

    /**
     * Returns the setup's address for Cachet's {@code RedisOptions}:
     * {@code redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3#cachet}.
     *
     * @return the address
     */
    public String uri() {
        return "redis-sentinel://" + String.join(",", sentinelAddresses()) + "#" + MASTER_NAME;
    }

    /** Stops every process and deletes their directories; idempotent. */
    @Override
    public void close() {
        List<RedisServer> all = new ArrayList<>(sentinels());
        all.addAll(dataNodes());
        Nodes.closeAll(all);
    }

    @Override
    public String toString() {
        return "RedisSentinel[" + MASTER_NAME + ", sentinels " + sentinelAddresses() + "]";
    }

    private static RedisServer add(List<RedisServer> list, RedisProcess process) {
        RedisServer server = new RedisServer(process);
        synchronized (list) {
            list.add(server);
        }
        return server;
    }

    private static String primaryAddress(RedisServer sentinel) {
        List<?> reply = (List<?>) requireNonNull(
                sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME));
        return reply.get(0) + ":" + reply.get(1);
    }

    /** The {@code flags} field of one entry of {@code SENTINEL REPLICAS}, a flat list or a map. */
    private static String flags(Object entry) {
        if (entry instanceof List<?> fields) {
            for (int i = 0; i + 1 < fields.size(); i += 2) {
                if ("flags".equals(fields.get(i))) {
                    return String.valueOf(fields.get(i + 1));
                }
            }
        } else if (entry instanceof java.util.Map<?, ?> map) {
            return String.valueOf(map.get("flags"));
        }
        return "";
    }

    private String describe() {
        StringBuilder text = new StringBuilder();
        for (RedisServer sentinel : sentinels()) {
            if (!sentinel.isRunning()) {
                continue;
            }
            try {
                text.append(sentinel.address()).append(" names ").append(primaryAddress(sentinel))
                        .append(", replicas ").append(sentinel.command("SENTINEL", "REPLICAS", MASTER_NAME)).append('\n');
            } catch (RuntimeException e) {
                text.append(sentinel.address()).append(": ").append(e).append('\n');
            }
        }
        return text.toString();
    }
}
