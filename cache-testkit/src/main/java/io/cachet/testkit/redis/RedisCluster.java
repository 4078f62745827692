package io.cachet.testkit.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.servers.Ports;
import io.cachet.servers.RedisBinary;
import io.cachet.servers.RedisProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster on 127.0.0.1 for tests: {@code primaries} primaries sharing the 16384 slots
 * evenly, each with {@code replicasPerPrimary} replicas, every node a {@link RedisServer} that can
 * be stopped, killed (SIGKILL) and restarted on its port.
 *
 * <pre>{@code
 * try (RedisCluster cluster = RedisCluster.create().start()) {   // 3 primaries, 3 replicas
 *     String seeds = cluster.uri();       // "redis-cluster://127.0.0.1:p1,127.0.0.1:p2,..."
 *     RedisServer owner = cluster.primaryFor("k");
 *     owner.kill();                       // a replica is promoted within about a second
 *     cluster.awaitHealthy();
 * }
 * }</pre>
 *
 * <p>Nodes run with {@code cluster-node-timeout} 1000 ms and {@code cluster-require-full-coverage
 * no}, so a failover takes a second or two and the other slots stay served meanwhile. A node keeps
 * its {@code nodes.conf} across restarts, so a restarted primary rejoins as a replica of the one
 * promoted in its place. Each node's cluster bus is its port + 10000, also checked free.
 *
 * <p>Thread-safe for {@link #nodes()} and the queries; start, kill and close are for the test's
 * own thread.
 */
public final class RedisCluster implements AutoCloseable {
    private static final String HOST = "127.0.0.1";
    private static final int SLOTS = 16_384;
    private static final int BUS_OFFSET = 10_000;
    private static final Duration FORM_TIMEOUT = Duration.ofSeconds(60);
    /** How long a failed primary takes to be replaced: node timeout plus election, with margin. */
    private static final Duration HEAL_TIMEOUT = Duration.ofSeconds(30);
    private static final String NODE_TIMEOUT_MILLIS = "1000";

    private final Path executable;
    private final int primaries;
    private final int replicasPerPrimary;
    private final List<RedisServer> nodes = new ArrayList<>();
    private volatile boolean started;

    private RedisCluster(Path executable, int primaries, int replicasPerPrimary) {
        this.executable = executable;
        this.primaries = primaries;
        this.replicasPerPrimary = replicasPerPrimary;
    }

    /**
     * Creates a stopped cluster of 3 primaries with one replica each, run by {@link RedisBinary#AUTO}.
     *
     * @return the cluster, not started yet
     */
    public static RedisCluster create() {
        return create(RedisBinary.AUTO, 3, 1);
    }

    /**
     * Creates a stopped cluster.
     *
     * @param binary which executable to run
     * @param primaries how many primaries, at least 3 (Redis needs a majority of primaries to fail over)
     * @param replicasPerPrimary replicas of each primary, at least 0
     * @return the cluster, not started yet
     */
    public static RedisCluster create(RedisBinary binary, int primaries, int replicasPerPrimary) {
        requireNonNull(binary, "binary");
        if (primaries < 3) {
            throw new IllegalArgumentException("primaries must be >= 3, was " + primaries);
        }
        if (replicasPerPrimary < 0) {
            throw new IllegalArgumentException("replicasPerPrimary must be >= 0, was " + replicasPerPrimary);
        }
        return new RedisCluster(binary.executable(), primaries, replicasPerPrimary);
    }

    /**
     * Starts every node, forms the cluster (MEET, ADDSLOTS, REPLICATE) and waits until every node
     * reports {@code cluster_state:ok} and knows every replica.
     *
     * @return this cluster
     * @throws IllegalStateException when already started or when the cluster does not form in time
     */
    public RedisCluster start() {
        if (started) {
            throw new IllegalStateException("the cluster was already started");
        }
        started = true;
        int total = primaries * (1 + replicasPerPrimary);
        try {
            for (int port : clusterPorts(total)) {
                RedisProcess process = RedisProcess.create(executable, port, List.of(), List.of(
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", NODE_TIMEOUT_MILLIS,
                        "--cluster-require-full-coverage", "no",
                        "--appendfsync", "no"));
                RedisServer node = new RedisServer(process);
                synchronized (nodes) {
                    nodes.add(node);
                }
                node.start();
            }
            form();
            return this;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void form() {
        List<RedisServer> all = nodes();
        RedisServer first = all.get(0);
        for (RedisServer node : all.subList(1, all.size())) {
            node.command("CLUSTER", "MEET", HOST, Integer.toString(first.port()));
        }
        Await.until("all nodes meeting", FORM_TIMEOUT,
                () -> all.stream().allMatch(n -> clusterNodes(n).size() == all.size()), () -> describe(first));
        int perPrimary = SLOTS / primaries;
        for (int p = 0; p < primaries; p++) {
            int from = p * perPrimary;
            int to = p == primaries - 1 ? SLOTS : from + perPrimary;
            List<String> args = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
            for (int slot = from; slot < to; slot++) {
                args.add(Integer.toString(slot));
            }
            all.get(p).command(args.toArray(String[]::new));
        }
        for (int r = 0; r < primaries * replicasPerPrimary; r++) {
            RedisServer primary = all.get(r % primaries);
            RedisServer replica = all.get(primaries + r);
            String primaryId = (String) primary.command("CLUSTER", "MYID");
            // The replica may not have learnt the primary's id from gossip yet.
            Await.until("node " + replica.address() + " replicating " + primary.address(), FORM_TIMEOUT, () -> {
                replica.command("CLUSTER", "REPLICATE", requireNonNull(primaryId));
                return true;
            }, () -> describe(replica));
        }
        awaitHealthy();
    }

    /**
     * Waits until every running node reports {@code cluster_state:ok}, sees every slot served by a
     * primary that is running, and knows as many replicas as are running.
     *
     * @throws IllegalStateException when that does not happen within 30 seconds
     */
    public void awaitHealthy() {
        Await.until("a healthy cluster", HEAL_TIMEOUT, this::healthy, () -> describe(anyRunning()));
    }

    private boolean healthy() {
        List<RedisServer> running = nodes().stream().filter(RedisServer::isRunning).toList();
        Set<String> runningAddresses = running.stream().map(RedisServer::address).collect(Collectors.toSet());
        for (RedisServer node : running) {
            String info = (String) node.command("CLUSTER", "INFO");
            if (info == null || !info.contains("cluster_state:ok")) {
                return false;
            }
            List<NodeLine> lines = clusterNodes(node);
            long primariesWithSlots = lines.stream()
                    .filter(l -> l.primary() && l.hasSlots() && !l.failed() && runningAddresses.contains(l.address()))
                    .count();
            long replicas = lines.stream().filter(l -> !l.primary() && !l.failed()).count();
            if (primariesWithSlots != primaries || replicas != running.size() - primaries) {
                return false;
            }
            if (lines.stream().anyMatch(l -> l.primary() && l.hasSlots() && !runningAddresses.contains(l.address()))) {
                return false;
            }
        }
        // Replicas have finished their initial sync.
        for (RedisServer node : running) {
            String replication = (String) node.command("INFO", "replication");
            if (replication != null && replication.contains("role:slave") && !replication.contains("master_link_status:up")) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns every node, primaries first (in the order they were started), whatever their current role.
     *
     * @return the nodes
     */
    public List<RedisServer> nodes() {
        synchronized (nodes) {
            return List.copyOf(nodes);
        }
    }

    /**
     * Returns the running nodes that are primaries now (roles change on failover).
     *
     * @return the current primaries
     */
    public List<RedisServer> primaries() {
        return nodes().stream().filter(RedisServer::isRunning).filter(n -> Nodes.role(n).equals("master")).toList();
    }

    /**
     * Returns the running nodes that are replicas now.
     *
     * @return the current replicas
     */
    public List<RedisServer> replicas() {
        return nodes().stream().filter(RedisServer::isRunning).filter(n -> Nodes.role(n).equals("slave")).toList();
    }

    /**
     * Returns the slot of {@code key}, as {@code CLUSTER KEYSLOT} computes it.
     *
     * @param key the key
     * @return its slot, 0 to 16383
     */
    public int slotOf(String key) {
        return ((Long) requireNonNull(anyRunning().command("CLUSTER", "KEYSLOT", key))).intValue();
    }

    /**
     * Returns the primary that serves {@code key}'s slot now, as a running node sees it.
     *
     * @param key the key
     * @return the node
     * @throws IllegalStateException when no running primary serves the slot
     */
    public RedisServer primaryFor(String key) {
        return primaryForSlot(slotOf(key));
    }

    /**
     * Returns the primary that serves {@code slot} now.
     *
     * @param slot the slot
     * @return the node
     * @throws IllegalStateException when no running primary serves the slot
     */
    public RedisServer primaryForSlot(int slot) {
        for (RedisServer node : primaries()) {
            for (NodeLine line : clusterNodes(node)) {
                if (line.myself() && line.serves(slot)) {
                    return node;
                }
            }
        }
        throw new IllegalStateException("no running primary serves slot " + slot + "; " + describe(anyRunning()));
    }

    /**
     * Returns the seed addresses, {@code host:port} of every node.
     *
     * @return the addresses
     */
    public List<String> addresses() {
        return nodes().stream().map(RedisServer::address).toList();
    }

    /**
     * Returns the cluster's address for Cachet's {@code RedisOptions}:
     * {@code redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...}.
     *
     * @return the address
     */
    public String uri() {
        return "redis-cluster://" + String.join(",", addresses());
    }

    /**
     * Moves {@code slot} and the keys in it from its current primary to {@code target}, as
     * {@code redis-cli --cluster reshard} does: SETSLOT IMPORTING/MIGRATING, MIGRATE key by key,
     * then SETSLOT NODE on every primary.
     *
     * @param slot the slot to move
     * @param target a primary that does not serve it yet
     */
    public void migrateSlot(int slot, RedisServer target) {
        RedisServer source = primaryForSlot(slot);
        if (source == target) {
            throw new IllegalArgumentException("slot " + slot + " is already served by " + target.address());
        }
        String sourceId = (String) requireNonNull(source.command("CLUSTER", "MYID"));
        String targetId = (String) requireNonNull(target.command("CLUSTER", "MYID"));
        String s = Integer.toString(slot);
        target.command("CLUSTER", "SETSLOT", s, "IMPORTING", sourceId);
        source.command("CLUSTER", "SETSLOT", s, "MIGRATING", targetId);
        while (true) {
            List<?> keys = (List<?>) requireNonNull(source.command("CLUSTER", "GETKEYSINSLOT", s, "100"));
            if (keys.isEmpty()) {
                break;
            }
            List<String> args = new ArrayList<>(List.of(
                    "MIGRATE", HOST, Integer.toString(target.port()), "", "0", "5000", "KEYS"));
            keys.forEach(k -> args.add((String) k));
            source.command(args.toArray(String[]::new));
        }
        target.command("CLUSTER", "SETSLOT", s, "NODE", targetId);
        source.command("CLUSTER", "SETSLOT", s, "NODE", targetId);
        for (RedisServer primary : primaries()) {
            if (primary != source && primary != target) {
                primary.command("CLUSTER", "SETSLOT", s, "NODE", targetId);
            }
        }
    }

    /** Stops every node and deletes their directories; idempotent. */
    @Override
    public void close() {
        Nodes.closeAll(nodes());
    }

    @Override
    public String toString() {
        return "RedisCluster" + addresses();
    }

    private RedisServer anyRunning() {
        return nodes().stream().filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no node of the cluster is running"));
    }

    private static String describe(RedisServer node) {
        try {
            return node.address() + " sees:\n" + node.command("CLUSTER", "NODES");
        } catch (RuntimeException e) {
            return node.address() + " cannot be asked: " + e;
        }
    }

    static List<NodeLine> clusterNodes(RedisServer node) {
        String text = (String) requireNonNull(node.command("CLUSTER", "NODES"));
        List<NodeLine> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                lines.add(NodeLine.parse(line.strip()));
            }
        }
        return lines;
    }

    /**
     * Ports p, free on 127.0.0.1 together with their cluster bus port p + 10000, from
     * {@link Ports}: below the kernel's ephemeral range with their bus ports, so no outgoing
     * connection (a health probe's, Redisson's, the nodes' gossip) takes a node's port while it
     * is down for a restart.
     */
    private static int[] clusterPorts(int count) {
        int[] ports = new int[count];
        Set<Integer> taken = new java.util.HashSet<>();
        for (int i = 0; i < count; i++) {
            for (int attempt = 0; ; attempt++) {
                int candidate = Ports.free(HOST, 1)[0]; // distinct: one walk of the range per JVM
                int bus = candidate + BUS_OFFSET;
                if (bus <= 65_535 && !taken.contains(candidate) && !taken.contains(bus) && bindable(bus)) {
                    ports[i] = candidate;
                    taken.add(candidate); // the fallback to bind(0) may hand out a port twice,
                    taken.add(bus); // or one that is another node's bus port
                    break;
                }
                if (attempt > 1000) {
                    throw new IllegalStateException("no free pair of ports p, p + 10000 on " + HOST);
                }
            }
        }
        return ports;
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName(HOST))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** One line of {@code CLUSTER NODES}. */
    record NodeLine(String id, String address, Set<String> flags, List<int[]> slots) {
        static NodeLine parse(String line) {
            String[] parts = line.split(" ");
            String address = parts[1].contains("@") ? parts[1].substring(0, parts[1].indexOf('@')) : parts[1];
            Set<String> flags = Set.of(parts[2].split(","));
            List<int[]> slots = new ArrayList<>();
            for (int i = 8; i < parts.length; i++) {
                if (parts[i].startsWith("[")) {
                    continue; // a slot being migrated or imported
                }
                String[] range = parts[i].split("-");
                int from = Integer.parseInt(range[0]);
                slots.add(new int[] {from, range.length > 1 ? Integer.parseInt(range[1]) : from});
            }
            return new NodeLine(parts[0], address, flags, slots);
        }

        boolean primary() {
            return flags.contains("master");
        }

        boolean myself() {
            return flags.contains("myself");
        }

        boolean failed() {
            return flags.contains("fail") || flags.contains("fail?") || flags.contains("handshake")
                    || flags.contains("noaddr");
        }

        boolean hasSlots() {
            return !slots.isEmpty();
        }

        boolean serves(int slot) {
            return slots.stream().anyMatch(r -> r[0] <= slot && slot <= r[1]);
        }

        @Override
        public String toString() {
            return address + flags;
        }
    }
}
