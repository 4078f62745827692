package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.examples.support.RawHttp;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Faults against the launcher jar's real processes: a node SIGKILLed in the middle of a stream of
 * writes (no acknowledged write lost; the restarted node replays, reports ready only then, and
 * holds the same data as its peers), and the Kafka broker killed and restarted (writes 503 while
 * it is down, reads keep working). One cluster for the whole class; each test leaves it whole.
 */
@Tag("kafka")
final class ClusterFaultIT {

  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static ClusterProcess cluster;

  @BeforeAll
  static void startCluster() {
    cluster = ClusterProcess.start(3, "--write-timeout", "3");
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void killNodeDuringWrites_losesNoAcknowledgedWrite_andTheRestartedNodeReplaysToTheSameData() throws Exception {
    Map<String, String> acknowledged = new ConcurrentHashMap<>();
    List<String> attempted = new CopyOnWriteArrayList<>();
    List<Integer> failures = new CopyOnWriteArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger next = new AtomicInteger();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < 2; w++) {
      Thread writer = new Thread(() -> {
        while (!stop.get()) {
          int i = next.incrementAndGet();
          String key = "stream-" + i;
          String value = "{\"i\":" + i + "}";
          attempted.add(key);
          try {
            ClusterProcess.Response response = cluster.post(cluster.balancer(), key, value);
            if (response.status() == 201) {
              acknowledged.put(key, value);
            } else {
              failures.add(response.status());
            }
          } catch (UncheckedIOException e) {
            failures.add(0);
          }
        }
      }, "writer-" + w);
      writer.start();
      writers.add(writer);
    }
    try {
      await().atMost(CONVERGE).until(() -> acknowledged.size() >= 150);
      assertThat(cluster.admin("POST", "/admin/nodes/2/kill").status()).isEqualTo(200);
      int atKill = acknowledged.size();
      // The balancer keeps answering: writes keep being acknowledged by the two other nodes.
      await().atMost(CONVERGE).until(() -> acknowledged.size() >= atKill + 150);
    } finally {
      stop.set(true);
      for (Thread writer : writers) {
        writer.join();
      }
    }
    assertThat(failures).as("only requests in flight on the killed node may fail").hasSizeLessThanOrEqualTo(4);
    assertThat(cluster.get(cluster.balancer(), "stream-1").status()).isEqualTo(200);

    // No acknowledged write is lost, on either surviving node.
    for (int n : new int[] {1, 3}) {
      String node = cluster.node(n);
      await().atMost(CONVERGE).untilAsserted(() -> {
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
          ClusterProcess.Response read = cluster.get(node, e.getKey());
          assertThat(read.status()).as(e.getKey() + " on node " + n).isEqualTo(200);
          assertThat(read.json().get("payload").get("value").toString()).isEqualTo(e.getValue());
        }
      });
    }

    // Restart: not ready (503 with replay progress) until it has replayed, then 200.
    assertThat(cluster.admin("POST", "/admin/nodes/2/start").status()).isEqualTo(202);
    String node2 = cluster.node(2);
    List<Integer> readiness = new ArrayList<>();
    List<String> notReadyBodies = new ArrayList<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
      RawHttp.Response r;
      try {
        r = RawHttp.get(cluster.nodePort(2), "/health/ready");
      } catch (UncheckedIOException e) {
        return false; // not listening yet
      }
      readiness.add(r.status());
      if (r.status() == 503) {
        notReadyBodies.add(r.body());
      }
      return r.status() == 200;
    });
    assertThat(readiness).as("readiness answers before 200").contains(503);
    assertThat(readiness.subList(readiness.indexOf(503), readiness.size() - 1)).containsOnly(503);
    assertThat(notReadyBodies.get(0)).contains("\"replayed\":", "\"target\":", "\"progress\":");
    // Every key the cluster was asked to write reads the same on the restarted node as on its peers.
    for (String key : attempted) {
      ClusterProcess.Response reference = cluster.get(cluster.node(1), key);
      assertThat(cluster.get(node2, key).body()).as(key).isEqualTo(reference.body());
      assertThat(cluster.get(cluster.node(3), key).body()).as(key).isEqualTo(reference.body());
    }
    await().atMost(CONVERGE).until(() -> cluster.nodeReady(2));
  }

  @Test
  void kafkaKilledAndRestarted_writesAre503WhileDown_readsKeepWorking() {
    assertThat(cluster.post(cluster.balancer(), "before-outage", "\"kept\"").status()).isEqualTo(201);
    for (int n = 1; n <= 3; n++) {
      String node = cluster.node(n);
      await().atMost(CONVERGE).until(() -> cluster.get(node, "before-outage").status() == 200);
    }
    assertThat(cluster.admin("POST", "/admin/kafka/kill").status()).isEqualTo(200);
    try {
      ClusterProcess.Response write = cluster.post(cluster.balancer(), "during-outage", "1");
      assertThat(write.status()).isEqualTo(503);
      assertThat(write.json().get("error").asText()).isEqualTo("ServiceUnavailable");
      for (int n = 1; n <= 3; n++) {
        ClusterProcess.Response read = cluster.get(cluster.node(n), "before-outage");
        assertThat(read.status()).as("read on node " + n + " while Kafka is down").isEqualTo(200);
        assertThat(read.json().get("payload").get("value").asText()).isEqualTo("kept");
      }
      assertThat(cluster.get(cluster.balancer(), "before-outage").status()).isEqualTo(200);
    } finally {
      assertThat(cluster.admin("POST", "/admin/kafka/start").status()).isEqualTo(200);
    }
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
        .until(() -> cluster.post(cluster.balancer(), "after-outage", "2").status() == 201);
    for (int n = 1; n <= 3; n++) {
      String node = cluster.node(n);
      await().atMost(CONVERGE).until(() -> cluster.get(node, "after-outage").status() == 200);
      assertThat(cluster.get(node, "before-outage").status()).isEqualTo(200);
    }
  }
}
