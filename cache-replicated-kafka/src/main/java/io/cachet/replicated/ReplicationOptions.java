package io.cachet.replicated;

import static java.util.Objects.requireNonNull;

import io.cachet.BackendOptions;
import io.cachet.internal.Durations;
import io.cachet.internal.OptionValues;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Options of the {@code replicated-kafka} backend. Immutable; built with {@link #builder()} or
 * parsed from the {@code cache.<name>.replicated-kafka.<option>} properties by {@link #parse}.
 *
 * <p>Every node of one cache must use the same {@link #topic()}; the other options may differ per
 * node. Properties named {@code kafka.<property>} are passed to the Kafka producer, consumer and
 * admin client unchanged (for example {@code kafka.security.protocol}); the ones this backend
 * relies on ({@code acks}, {@code enable.idempotence}, deserializers, offsets) cannot be overridden.
 */
public final class ReplicationOptions implements BackendOptions {

  /** The broker list used when none is given. */
  public static final String DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092";
  /** How long a write may take, from the call to its record being applied locally. */
  public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(10);
  /** The longest write timeout allowed; see {@link Builder#writeTimeout}. */
  public static final Duration MAX_WRITE_TIMEOUT = Duration.ofMinutes(2);
  /** The {@code min.compaction.lag.ms} a topic created by this backend gets. */
  public static final Duration DEFAULT_MIN_COMPACTION_LAG = Duration.ofHours(1);
  /**
   * The smallest {@code min.compaction.lag.ms} accepted on an existing topic: a record that leaves
   * a key unanchored must be followed by an anchor before the cleaner may drop what it depends on.
   */
  public static final Duration MIN_COMPACTION_LAG_FLOOR = Duration.ofMinutes(5);
  /** How long creating a cache waits for its replay to finish before returning it anyway. */
  public static final Duration DEFAULT_STARTUP_WAIT = Duration.ofSeconds(30);
  /** How often the replica is written to the snapshot file, when one is configured. */
  public static final Duration DEFAULT_SNAPSHOT_INTERVAL = Duration.ofMinutes(1);

  /** The option names understood in properties files, besides {@code kafka.*}. */
  public static final Set<String> OPTION_NAMES =
      Set.of(
          "bootstrapServers",
          "topic",
          "partitions",
          "replicationFactor",
          "minCompactionLag",
          "nodeId",
          "writeTimeout",
          "readLatest",
          "startupWait",
          "snapshotPath",
          "snapshotInterval");

  private static final String TOPIC_PREFIX = "cachet-";
  /** Cache names used as they are in a topic name: 7 + 242 = 249, Kafka's limit. */
  private static final Pattern PLAIN_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,242}");
  private static final Pattern HASHED_SUFFIX = Pattern.compile("--[0-9a-f]{32}$");
  private static final int READABLE_LENGTH = 200;

  private final String bootstrapServers;
  private final @Nullable String topic;
  private final int partitions;
  private final short replicationFactor;
  private final Duration minCompactionLag;
  private final String nodeId;
  private final Duration writeTimeout;
  private final boolean readLatest;
  private final Duration startupWait;
  private final @Nullable Path snapshotPath;
  private final Duration snapshotInterval;
  private final Map<String, String> kafkaProperties;

  private ReplicationOptions(Builder b) {
    this.bootstrapServers = b.bootstrapServers;
    this.topic = b.topic;
    this.partitions = b.partitions;
    this.replicationFactor = b.replicationFactor;
    this.minCompactionLag = b.minCompactionLag;
    this.nodeId = b.nodeId != null ? b.nodeId : "node-" + UUID.randomUUID().toString().substring(0, 8);
    this.writeTimeout = b.writeTimeout;
    this.readLatest = b.readLatest;
    this.startupWait = b.startupWait;
    this.snapshotPath = b.snapshotPath;
    this.snapshotInterval = b.snapshotInterval;
    this.kafkaProperties = Map.copyOf(b.kafkaProperties);
  }

  /** Returns a builder with every option at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns options with every value at its default. */
  public static ReplicationOptions defaults() {
    return builder().build();
  }

  /**
   * Parses options from their property names ({@link #OPTION_NAMES} and {@code kafka.*}).
   *
   * @throws IllegalArgumentException naming the option, for an unknown name or a bad value
   */
  public static ReplicationOptions parse(Map<String, String> options) {
    Builder builder = builder();
    for (Map.Entry<String, String> e : options.entrySet()) {
      String name = e.getKey();
      String value = e.getValue().trim();
      if (name.startsWith("kafka.") && name.length() > "kafka.".length()) {
        builder.kafkaProperty(name.substring("kafka.".length()), value);
        continue;
      }
      switch (name) {
        case "bootstrapServers" -> builder.bootstrapServers(value);
        case "topic" -> builder.topic(value);
        case "partitions" -> builder.partitions(OptionValues.parseInt(name, value));
        case "replicationFactor" -> builder.replicationFactor(shortValue(name, OptionValues.parseInt(name, value)));
        case "minCompactionLag" -> builder.minCompactionLag(Durations.parse(name, value));
        case "nodeId" -> builder.nodeId(value);
        case "writeTimeout" -> builder.writeTimeout(Durations.parse(name, value));
        case "readLatest" -> builder.readLatest(OptionValues.parseBoolean(name, value));
        case "startupWait" -> builder.startupWait(Durations.parse(name, value));
        case "snapshotPath" -> builder.snapshotPath(Path.of(value));
        case "snapshotInterval" -> builder.snapshotInterval(Durations.parse(name, value));
        default ->
            throw new IllegalArgumentException(
                "unknown replicated-kafka option '" + name + "'; known options: " + new TreeSet<>(OPTION_NAMES)
                    + " and kafka.<client property>");
      }
    }
    return builder.build();
  }

  /** Returns the Kafka bootstrap servers, {@code host:port[,host:port...]}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * Returns the topic of the cache named {@code cacheName}: the configured {@link #topic()}, else
   * {@link #defaultTopicFor defaultTopicFor(cacheName)}.
   */
  public String topicFor(String cacheName) {
    return topic != null ? topic : defaultTopicFor(cacheName);
  }

  /**
   * Returns the topic a cache gets when no {@code topic} is configured: a legal Kafka topic name
   * for any cache name, the same on every node, and a different topic for every different name.
   *
   * <ul>
   *   <li>A name of letters, digits, {@code _} and {@code -}, at most 242 characters, that does not
   *       end like the second form, gets {@code cachet-<name>}: {@code orders} uses
   *       {@code cachet-orders}.
   *   <li>Any other name (spaces, {@code @}, {@code .}, non-ASCII, longer) gets
   *       {@code cachet-<readable>--<hash>}: {@code <readable>} is the name's first 200 characters
   *       with every other character replaced by {@code _}, and {@code <hash>} the first 32 hex
   *       digits of the SHA-256 of the name's UTF-8 bytes. {@code new cache} uses
   *       {@code cachet-new_cache--} followed by 32 hex digits.
   * </ul>
   *
   * <p>The first form never ends in {@code --} and 32 hex digits and the second always does, so the
   * two cannot meet. Neither contains {@code .}: Kafka refuses a topic whose name equals an
   * existing one's with {@code .} and {@code _} swapped.
   */
  public static String defaultTopicFor(String cacheName) {
    requireNonNull(cacheName, "cacheName");
    if (PLAIN_NAME.matcher(cacheName).matches() && !HASHED_SUFFIX.matcher(cacheName).find()) {
      return TOPIC_PREFIX + cacheName;
    }
    String readable = cacheName.codePoints()
        .limit(READABLE_LENGTH)
        .map(c -> c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '-') ? c : '_')
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
        .toString();
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(cacheName.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    return TOPIC_PREFIX + readable + "--" + HexFormat.of().formatHex(digest, 0, 16);
  }

  /** Returns the configured topic, if one was set. */
  public Optional<String> topic() {
    return Optional.ofNullable(topic);
  }

  /** Returns the partition count a created topic gets; existing topics keep theirs. */
  public int partitions() {
    return partitions;
  }

  /** Returns the replication factor a created topic gets; {@code -1} means the broker's default. */
  public short replicationFactor() {
    return replicationFactor;
  }

  /** Returns the {@code min.compaction.lag.ms} a created topic gets, and the least an existing one needs. */
  public Duration minCompactionLag() {
    return minCompactionLag;
  }

  /** Returns this node's id, written into every record it produces; random unless set. */
  public String nodeId() {
    return nodeId;
  }

  /** Returns how long a write may take before it fails. */
  public Duration writeTimeout() {
    return writeTimeout;
  }

  /** Returns whether every read first waits for the replica to reach the topic's end (linearizable reads). */
  public boolean readLatest() {
    return readLatest;
  }

  /**
   * Returns how long creating the cache waits for the start-up replay; 0 returns at once (poll
   * {@link ReplicatedCache#isReady()}, as a server with a readiness probe would).
   */
  public Duration startupWait() {
    return startupWait;
  }

  /** Returns the snapshot file, if snapshots are enabled. */
  public Optional<Path> snapshotPath() {
    return Optional.ofNullable(snapshotPath);
  }

  /** Returns how often the snapshot is written. */
  public Duration snapshotInterval() {
    return snapshotInterval;
  }

  /** Returns the extra Kafka client properties. */
  public Map<String, String> kafkaProperties() {
    return kafkaProperties;
  }

  @Override
  public String toString() {
    return "ReplicationOptions{bootstrapServers=" + bootstrapServers + ", topic=" + topic + ", partitions=" + partitions
        + ", replicationFactor=" + replicationFactor + ", minCompactionLag=" + minCompactionLag + ", nodeId=" + nodeId
        + ", writeTimeout=" + writeTimeout + ", readLatest=" + readLatest + ", startupWait=" + startupWait + ", snapshotPath=" + snapshotPath
        + ", snapshotInterval=" + snapshotInterval + ", kafkaProperties=" + kafkaProperties.keySet() + "}";
  }



  private static short shortValue(String option, int value) {
    if (value < Short.MIN_VALUE || value > Short.MAX_VALUE) {
      throw new IllegalArgumentException(option + " must be at most " + Short.MAX_VALUE + ", was " + value);
    }
    return (short) value;
  }

  /** Builds {@link ReplicationOptions}; each setter validates its value. */
  public static final class Builder {

    private String bootstrapServers = DEFAULT_BOOTSTRAP_SERVERS;
    private @Nullable String topic;
    private int partitions = 1;
    private short replicationFactor = -1;
    private Duration minCompactionLag = DEFAULT_MIN_COMPACTION_LAG;
    private @Nullable String nodeId;
    private Duration writeTimeout = DEFAULT_WRITE_TIMEOUT;
    private boolean readLatest;
    private Duration startupWait = DEFAULT_STARTUP_WAIT;
    private @Nullable Path snapshotPath;
    private Duration snapshotInterval = DEFAULT_SNAPSHOT_INTERVAL;
    private final Map<String, String> kafkaProperties = new LinkedHashMap<>();

    private Builder() {}

    /** Sets the Kafka bootstrap servers, {@code host:port[,host:port...]}. */
    public Builder bootstrapServers(String servers) {
      requireNonNull(servers, "bootstrapServers");
      if (servers.isBlank()) {
        throw new IllegalArgumentException("bootstrapServers must not be blank");
      }
      for (String server : servers.split(",")) {
        String s = server.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
          throw new IllegalArgumentException("bootstrapServers must be host:port[,host:port...], was '" + servers + "'");
        }
        parsePort(s.substring(colon + 1), servers);
      }
      this.bootstrapServers = servers.trim();
      return this;
    }

    private static void parsePort(String port, String servers) {
      try {
        int p = Integer.parseInt(port);
        if (p < 1 || p > 65535) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "bootstrapServers must be host:port[,host:port...] with ports 1-65535, was '" + servers + "'");
      }
    }

    /** Sets the topic; legal Kafka topic names only (letters, digits, '.', '_', '-'; at most 249). */
    public Builder topic(String topic) {
      requireNonNull(topic, "topic");
      if (!topic.matches("[a-zA-Z0-9._-]{1,249}") || topic.equals(".") || topic.equals("..")) {
        throw new IllegalArgumentException(
            "topic must be 1-249 of [a-zA-Z0-9._-] and not '.' or '..', was '" + topic + "'");
      }
      this.topic = topic;
      return this;
    }

    /** Sets the partition count of a topic this backend creates; at least 1. */
    public Builder partitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /** Sets the replication factor of a topic this backend creates; at least 1, or -1 for the broker default. */
    public Builder replicationFactor(short factor) {
      if (factor < 1 && factor != -1) {
        throw new IllegalArgumentException("replicationFactor must be >= 1 or -1 (broker default), was " + factor);
      }
      this.replicationFactor = factor;
      return this;
    }

    /** Sets the topic's {@code min.compaction.lag.ms}; at least {@link #MIN_COMPACTION_LAG_FLOOR}. */
    public Builder minCompactionLag(Duration lag) {
      requireNonNull(lag, "minCompactionLag");
      if (lag.compareTo(MIN_COMPACTION_LAG_FLOOR) < 0) {
        throw new IllegalArgumentException(
            "minCompactionLag must be >= " + MIN_COMPACTION_LAG_FLOOR + " (anchors must land before the cleaner"
                + " may drop what a record depends on), was " + lag);
      }
      this.minCompactionLag = lag;
      return this;
    }

    /** Sets this node's id: 1-64 of [a-zA-Z0-9._-]. */
    public Builder nodeId(String nodeId) {
      requireNonNull(nodeId, "nodeId");
      if (!nodeId.matches("[a-zA-Z0-9._-]{1,64}")) {
        throw new IllegalArgumentException("nodeId must be 1-64 of [a-zA-Z0-9._-], was '" + nodeId + "'");
      }
      this.nodeId = nodeId;
      return this;
    }

    /** Sets how long a write may take; more than 0 and at most {@link #MAX_WRITE_TIMEOUT}. */
    public Builder writeTimeout(Duration timeout) {
      requireNonNull(timeout, "writeTimeout");
      if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_WRITE_TIMEOUT) > 0) {
        throw new IllegalArgumentException(
            "writeTimeout must be > 0 and <= " + MAX_WRITE_TIMEOUT + ", was " + timeout);
      }
      if (timeout.toMillis() < 1) {
        throw new IllegalArgumentException("writeTimeout must be at least 1 ms, was " + timeout);
      }
      this.writeTimeout = timeout;
      return this;
    }

    /** Makes every read wait for the replica to reach the topic's end offsets first. */
    public Builder readLatest(boolean enabled) {
      this.readLatest = enabled;
      return this;
    }

    /** Sets how long creating the cache waits for its replay; 0 or more. The cache is returned either way. */
    public Builder startupWait(Duration wait) {
      requireNonNull(wait, "startupWait");
      if (wait.isNegative()) {
        throw new IllegalArgumentException("startupWait must be >= 0, was " + wait);
      }
      this.startupWait = wait;
      return this;
    }

    /** Enables snapshots: the replica is saved to {@code path} periodically and on close, and loaded on start. */
    public Builder snapshotPath(Path path) {
      this.snapshotPath = requireNonNull(path, "snapshotPath");
      return this;
    }

    /** Sets how often the snapshot is written; at least one second. */
    public Builder snapshotInterval(Duration interval) {
      requireNonNull(interval, "snapshotInterval");
      if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("snapshotInterval must be >= 1s, was " + interval);
      }
      this.snapshotInterval = interval;
      return this;
    }

    /** Passes a property to the Kafka clients, for example {@code security.protocol}. */
    public Builder kafkaProperty(String name, String value) {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      if (KafkaClients.RESERVED.contains(name)) {
        throw new IllegalArgumentException(
            "kafka." + name + " is set by the replicated-kafka backend and cannot be overridden");
      }
      kafkaProperties.put(name, value);
      return this;
    }

    /** Returns the options. */
    public ReplicationOptions build() {
      return new ReplicationOptions(this);
    }
  }
}
