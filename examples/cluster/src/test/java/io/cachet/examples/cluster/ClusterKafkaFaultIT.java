package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.examples.support.RawHttp;
import io.cachet.servers.KafkaProcess;
import io.cachet.servers.Ports;
import io.cachet.testkit.fault.TcpRelay;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Faults between the nodes and Kafka, on three node processes of the built jar and a broker JVM.
 * Kafka clients connect to the broker's advertised listeners after bootstrap, so a relay in front
 * of the bootstrap port alone would be bypassed: the broker has one listener per node
 * ({@code N1..N3}), each advertised at that node's {@link TcpRelay}, so all of a node's Kafka
 * traffic goes through its own relay.
 *
 * <ul>
 *   <li>a node cut off from Kafka (its relay black-holed) for 10 s while writes go on on every
 *       node: its writes fail within the write timeout, its reads keep answering within
 *       milliseconds (reads never wait for writes), and after the heal it converges with the
 *       others, no acknowledged write lost;
 *   <li>a node paused with SIGSTOP for 5 s while the others take writes, then SIGCONT: it does not
 *       report ready until every write acknowledged before it resumed is readable on it, and it
 *       loses no acknowledged write.
 * </ul>
 */
@Tag("kafka")
final class ClusterKafkaFaultIT {

  private static final Logger log = LoggerFactory.getLogger(ClusterKafkaFaultIT.class);
  private static final int NODES = 3;
  private static final int WRITE_TIMEOUT_SECONDS = 3;
  /** The write timeout plus a margin for a loaded two-CPU machine. */
  private static final double WRITE_FAILS_WITHIN_SECONDS = WRITE_TIMEOUT_SECONDS + 1.5;
  /** Long enough for two write timeouts with their margin: writes on a cut-off node fail during it. */
  private static final Duration FAULT = Duration.ofSeconds(10);
  /** Five times the pause a node notices (its apply thread's heartbeat older than 1 s). */
  private static final Duration STOP = Duration.ofSeconds(5);
  /** A read of an existing key on a node cut off from Kafka: milliseconds, bounded generously for a loaded machine. */
  private static final double READ_ANSWERS_WITHIN_SECONDS = 0.5;
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  /**
   * Each writer waits this long after an acknowledged write: a few hundred writes a second over
   * the writers, so a fault still spans thousands of them while the checks that read every
   * acknowledged key back from every node stay short.
   */
  private static final long WRITE_PAUSE_MILLIS = 5;

  private static final List<TcpRelay> relays = new ArrayList<>();
  private static TcpRelay readinessRelay;
  private static KafkaProcess kafka;
  private static final List<NodeJvm> nodes = new ArrayList<>();

  @BeforeAll
  static void start() {
    int[] ports = Ports.free("127.0.0.1", 2 + NODES);
    int plaintext = ports[0];
    int controller = ports[1];
    StringBuilder listeners = new StringBuilder("PLAINTEXT://127.0.0.1:" + plaintext + ",CONTROLLER://127.0.0.1:"
        + controller);
    StringBuilder advertised = new StringBuilder("PLAINTEXT://127.0.0.1:" + plaintext);
    StringBuilder protocols = new StringBuilder("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    for (int i = 1; i <= NODES; i++) {
      int listenerPort = ports[1 + i];
      TcpRelay relay = TcpRelay.start("127.0.0.1", listenerPort);
      relays.add(relay);
      listeners.append(",N").append(i).append("://127.0.0.1:").append(listenerPort);
      advertised.append(",N").append(i).append("://127.0.0.1:").append(relay.port());
      protocols.append(",N").append(i).append(":PLAINTEXT");
    }
    kafka = KafkaProcess.builder()
        .classpath(ClusterProcess.jar().toAbsolutePath().toString())
        .brokerProperty("listeners", listeners.toString())
        .brokerProperty("advertised.listeners", advertised.toString())
        .brokerProperty("listener.security.protocol.map", protocols.toString())
        .brokerProperty("controller.quorum.voters", "1@127.0.0.1:" + controller)
        .build();
    // KafkaProcess probes the port it picked itself; our PLAINTEXT listener is elsewhere.
    readinessRelay = TcpRelay.start(kafka.port(), "127.0.0.1", plaintext);
    kafka.start();
    for (int i = 1; i <= NODES; i++) {
      nodes.add(NodeJvm.start("node-" + i, relays.get(i - 1).address(),
          "--write-timeout", Integer.toString(WRITE_TIMEOUT_SECONDS)));
    }
    for (NodeJvm node : nodes) {
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> node.readiness().status() == 200);
    }
  }

  /**
   * Stops everything started, every step even when one fails (a node that exited already): the
   * first failure is thrown at the end, the others suppressed in it.
   */
  @AfterAll
  static void stop() {
    List<Runnable> steps = new ArrayList<>();
    for (NodeJvm node : nodes) {
      steps.add(node::resume); // in case a test failed while it was paused
      steps.add(node::close);
    }
    if (kafka != null) {
      steps.add(kafka::close);
    }
    if (readinessRelay != null) {
      steps.add(readinessRelay::close);
    }
    relays.forEach(relay -> steps.add(relay::close));
    RuntimeException first = null;
    for (Runnable step : steps) {
      try {
        step.run();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** A stream of writes of new keys to one node, remembering what was acknowledged. */
  private static final class Writer implements Runnable {
    final NodeJvm node;
    final String prefix;
    final Map<String, String> acknowledged;
    final List<double[]> outcomes = new CopyOnWriteArrayList<>(); // {startSecond, seconds, status}
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicInteger next = new AtomicInteger();
    final long origin;
    final Thread thread;

    Writer(NodeJvm node, String prefix, Map<String, String> acknowledged, long origin) {
      this.node = node;
      this.prefix = prefix;
      this.acknowledged = acknowledged;
      this.origin = origin;
      this.thread = new Thread(this, "writer-" + prefix);
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void run() {
      while (!stop.get()) {
        String key = prefix + "-" + next.incrementAndGet();
        String value = "{\"k\":\"" + key + "\"}";
        long start = System.nanoTime();
        int status;
        try {
          status = post(node, key, value).status();
        } catch (UncheckedIOException e) {
          status = 0;
        }
        long end = System.nanoTime();
        outcomes.add(new double[] {(start - origin) / 1e9, (end - start) / 1e9, status});
        if (status == 201) {
          acknowledged.put(key, value);
          pause(WRITE_PAUSE_MILLIS);
        } else {
          pause(100);
        }
      }
    }

    void finish() throws InterruptedException {
      stop.set(true);
      thread.join(30_000);
    }
  }

  @Test
  void nodeCutOffFromKafka_writesFailWithinTheBound_readsKeepAnswering_andItConvergesAfterTheHeal() throws Exception {
    NodeJvm cut = nodes.get(1);
    assertThat(post(nodes.get(0), "cut-seed", "\"seed\"").status()).isEqualTo(201);
    awaitEverywhere("cut-seed", "\"seed\"");
    Map<String, String> acknowledged = new ConcurrentHashMap<>();
    long origin = System.nanoTime();
    List<Writer> writers = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      writers.add(new Writer(nodes.get(i), "cut-n" + (i + 1), acknowledged, origin));
    }
    List<Double> readSeconds = new ArrayList<>();
    double cutAt;
    double healAt;
    try {
      await().atMost(CONVERGE).until(() -> acknowledged.size() >= 30);
      relays.get(1).blackHole();
      cutAt = (System.nanoTime() - origin) / 1e9;
      long healDeadline = System.nanoTime() + FAULT.toNanos();
      while (System.nanoTime() - healDeadline < 0) {
        long start = System.nanoTime();
        RawHttp.Response read = RawHttp.get(cut.port(), "/api/cache/cut-seed");
        readSeconds.add((System.nanoTime() - start) / 1e9);
        assertThat(read.status()).as("a read on the cut-off node").isEqualTo(200);
        assertThat(read.body()).contains("\"value\":\"seed\"");
        pause(200);
      }
      relays.get(1).pass();
      healAt = (System.nanoTime() - origin) / 1e9;
      int atHeal = acknowledged.size();
      await().atMost(CONVERGE).until(() -> acknowledged.size() >= atHeal + 30);
    } finally {
      relays.get(1).pass();
      for (Writer writer : writers) {
        writer.finish();
      }
    }

    // Writes on the cut-off node that started after the cut and ended before the heal: 503 within the bound.
    List<double[]> duringCut = writers.get(1).outcomes.stream()
        .filter(o -> o[0] > cutAt + 0.5 && o[0] + o[1] < healAt).toList();
    log.info("cut-off node: {} writes during the cut, slowest {} s; reads during the cut, slowest {} s",
        duringCut.size(), duringCut.stream().mapToDouble(o -> o[1]).max().orElse(0),
        readSeconds.stream().mapToDouble(Double::doubleValue).max().orElse(0));
    assertThat(duringCut).as("writes attempted on the cut-off node").isNotEmpty();
    for (double[] o : duringCut) {
      assertThat((int) o[2]).as("status of a write %.1f s into the run", o[0]).isEqualTo(503);
      assertThat(o[1]).as("seconds until a write on the cut-off node failed").isLessThan(WRITE_FAILS_WITHIN_SECONDS);
    }
    // Reads keep answering from the replica and never wait for writes (only the cache's send thread
    // waits on Kafka metadata).
    assertThat(readSeconds).allSatisfy(s -> assertThat(s).as("read seconds").isLessThan(READ_ANSWERS_WITHIN_SECONDS));
    for (int i : new int[] {0, 2}) {
      assertThat(writers.get(i).outcomes.stream().filter(o -> o[0] > cutAt && o[0] + o[1] < healAt && o[2] == 201))
          .as("writes acknowledged by node %d during the cut", i + 1).isNotEmpty();
    }
    assertConverged(acknowledged, writers);
  }

  @Test
  void nodePausedBySigstop_catchesUp_andLosesNoAcknowledgedWrite() throws Exception {
    NodeJvm paused = nodes.get(1);
    Map<String, String> acknowledged = new ConcurrentHashMap<>();
    long origin = System.nanoTime();
    Writer before = new Writer(paused, "stop-n2", acknowledged, origin);
    await().atMost(CONVERGE).until(() -> acknowledged.size() >= 10);
    before.finish();
    List<Writer> writers = new ArrayList<>(List.of(before));
    writers.add(new Writer(nodes.get(0), "stop-n1", acknowledged, origin));
    writers.add(new Writer(nodes.get(2), "stop-n3", acknowledged, origin));
    Map<String, String> ackedBeforeResume;
    Map<String, String> ackedBeforeCaughtUp;
    String caughtUp;
    List<String> staleAfterReport = new ArrayList<>();
    int laggingAfterReport;
    double catchUpSeconds;
    try {
      await().atMost(CONVERGE).until(() -> acknowledged.size() >= 40);
      paused.pause();
      try {
        int atPause = acknowledged.size();
        pause(STOP.toMillis());
        assertThat(acknowledged.size()).as("the other nodes keep taking writes").isGreaterThan(atPause);
      } finally {
        // Every write acknowledged by now is in the log before the node runs again.
        ackedBeforeResume = Map.copyOf(acknowledged);
        paused.resume();
      }
      // Wait until it reports caught up, then check what it serves: every write acknowledged
      // before it resumed must be readable on it at once (its readiness is not the consumer's view
      // from before the pause, but end offsets fetched after it). Writes acknowledged by the other
      // nodes after it resumed may trail by the usual replication lag: counted and logged.
      AtomicReference<Map<String, String>> snapshotAtReady = new AtomicReference<>();
      AtomicReference<String> readyBody = new AtomicReference<>();
      await().atMost(CONVERGE).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20)).until(() -> {
        Map<String, String> snapshot = Map.copyOf(acknowledged);
        RawHttp.Response ready;
        try {
          ready = paused.readiness();
        } catch (UncheckedIOException e) {
          return false; // still resuming
        }
        if (ready.status() != 200 || !ready.body().contains("\"lag_records\":0,")) {
          return false;
        }
        snapshotAtReady.set(snapshot);
        readyBody.set(ready.body());
        return true;
      });
      ackedBeforeCaughtUp = snapshotAtReady.get();
      caughtUp = readyBody.get();
      int lagging = 0;
      for (Map.Entry<String, String> e : ackedBeforeCaughtUp.entrySet()) {
        if (RawHttp.get(paused.port(), "/api/cache/" + e.getKey()).status() != 200) {
          if (ackedBeforeResume.containsKey(e.getKey())) {
            staleAfterReport.add(e.getKey());
          } else {
            lagging++;
          }
        }
      }
      laggingAfterReport = lagging;
      long caughtUpAt = System.nanoTime();
      await().atMost(CONVERGE).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
        for (Map.Entry<String, String> e : ackedBeforeCaughtUp.entrySet()) {
          RawHttp.Response read = RawHttp.get(paused.port(), "/api/cache/" + e.getKey());
          assertThat(read.status()).as("%s on the resumed node", e.getKey()).isEqualTo(200);
          assertThat(read.body()).contains("\"value\":" + e.getValue());
        }
      });
      catchUpSeconds = (System.nanoTime() - caughtUpAt) / 1e9;
    } finally {
      for (Writer writer : writers) {
        writer.finish();
      }
    }
    log.info("SIGSTOP: the resumed node reported {}; of the {} writes acknowledged before it resumed, {} were not "
            + "readable on it then; of the {} acknowledged after it resumed and before the report, {} were not; all "
            + "were {} s later", caughtUp, ackedBeforeResume.size(), staleAfterReport.size(),
        ackedBeforeCaughtUp.size() - ackedBeforeResume.size(), laggingAfterReport, String.format("%.2f", catchUpSeconds));
    assertThat(staleAfterReport).as("writes acknowledged before SIGCONT, missing on the node once it reported ready")
        .isEmpty();
    assertConverged(acknowledged, writers);
  }

  // ------------------------------------------------------------------ helpers

  /** Every acknowledged write reads back on every node, and the nodes agree on every key tried. */
  private static void assertConverged(Map<String, String> acknowledged, List<Writer> writers) {
    for (NodeJvm node : nodes) {
      await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
          RawHttp.Response read = RawHttp.get(node.port(), "/api/cache/" + e.getKey());
          assertThat(read.status()).as("%s on %s", e.getKey(), node.id()).isEqualTo(200);
          assertThat(read.body()).contains("\"value\":" + e.getValue());
        }
      });
    }
    List<String> tried = new ArrayList<>();
    for (Writer writer : writers) {
      for (int i = 1; i <= writer.next.get(); i++) {
        tried.add(writer.prefix + "-" + i);
      }
    }
    // Written or not (a 503 may still have been applied later), every key reads the same everywhere.
    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      for (String key : tried) {
        String reference = RawHttp.get(nodes.get(0).port(), "/api/cache/" + key).body();
        for (NodeJvm node : nodes.subList(1, nodes.size())) {
          assertThat(RawHttp.get(node.port(), "/api/cache/" + key).body()).as("%s on %s", key, node.id())
              .isEqualTo(reference);
        }
      }
    });
  }

  private static void awaitEverywhere(String key, String value) {
    for (NodeJvm node : nodes) {
      await().atMost(CONVERGE).until(() -> RawHttp.get(node.port(), "/api/cache/" + key).body()
          .contains("\"value\":" + value));
    }
  }

  private static RawHttp.Response post(NodeJvm node, String key, String json) {
    byte[] body = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return RawHttp.send(node.port(), ("POST /api/cache/" + key + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n" + json)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
