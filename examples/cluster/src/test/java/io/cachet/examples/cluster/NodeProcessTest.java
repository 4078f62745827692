package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node process as the launcher runs it, here a shell standing in for the node's JVM. */
final class NodeProcessTest {

  private final ExecutorService threads = Executors.newCachedThreadPool();
  private NodeProcess node;

  @AfterEach
  void stop() {
    if (node != null) {
      Process p = node.process();
      if (p != null) {
        p.destroyForcibly(); // the one process this test started
      }
    }
    threads.shutdownNow();
  }

  /**
   * A node that ignores SIGTERM holds {@code stop()} for its stop grace before it is killed; meanwhile
   * {@code GET /admin/nodes}, answered on a balancer event loop, must not wait for it.
   */
  @Test
  void statusQueries_doNotWaitForAStopInProgress(@TempDir Path dir) throws Exception {
    node = started(dir, 1, "trap '' TERM; echo trapped; exec sleep 60", Duration.ofSeconds(15));
    long pid = node.pid();

    Thread[] stopper = new Thread[1];
    CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
      stopper[0] = Thread.currentThread();
      node.stop();
    }, threads);
    // stop() has sent SIGTERM and waits for an exit that does not come.
    await().atMost(Duration.ofSeconds(10)).until(() -> stopper[0] != null
        && stopper[0].getState() == Thread.State.TIMED_WAITING);

    String status = CompletableFuture.supplyAsync(() -> node.pid() + " " + node.alive() + " " + node.starts(), threads)
        .get(5, TimeUnit.SECONDS);
    assertThat(status).isEqualTo(pid + " true 1");
    assertThat(stopped).isNotDone();
  }

  @Test
  void stopGrace_coversTheNodesWaitForItsAnswersWhateverTheWriteTimeout() {
    for (long seconds : new long[] {1, 10, 60, 120}) {
      NodeConfig config = NodeConfig.builder().writeTimeout(String.valueOf(seconds)).build();
      // What the node itself waits after SIGTERM before it closes: a write may take its whole timeout.
      Duration answering = NodeServer.answerPatience(config.writeTimeout());
      assertThat(answering).isGreaterThan(config.writeTimeout());
      assertThat(NodeProcess.stopGrace(config)).as("write timeout %s s", seconds)
          .isEqualTo(answering.plus(NodeProcess.CLOSE_ALLOWANCE));
    }
  }

  @Test
  void stopBy_sharesOneDeadline_soALaterNodeIsNotGivenAGraceOfItsOwn(@TempDir Path dir) throws Exception {
    node = started(dir, 1, "trap '' TERM; echo trapped; exec sleep 60", Duration.ofSeconds(30));
    long start = System.nanoTime();
    node.stopBy(start); // the deadline has passed: SIGKILL at once, not after the node's own 30 s
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(node.process().exitValue()).as("SIGKILLed").isEqualTo(128 + 9);
  }

  @Test
  void stop_killsANodeStillRunningAfterItsGrace_andLetsOneThatExitsInTimeExitByItself(@TempDir Path dir)
      throws Exception {
    node = started(dir, 1, "trap '' TERM; echo trapped; exec sleep 60", Duration.ofMillis(500));
    node.stop();
    assertThat(node.process().exitValue()).as("SIGKILLed").isEqualTo(128 + 9);

    node = started(dir, 2, "trap 'sleep 1; exit 0' TERM; echo trapped; while :; do sleep 0.1; done",
        Duration.ofSeconds(10));
    node.stop();
    assertThat(node.process().exitValue()).as("exited by itself after 1 s of shutting down").isZero();
  }

  /**
   * Starts node {@code n} as a shell running {@code script}, which must print "trapped" once its
   * signal handling is set, and waits for that line. It is the test's {@link #node} from the
   * start, so that it is killed after the test whatever happens.
   */
  private NodeProcess started(Path dir, int n, String script, Duration stopGrace) {
    Path log = dir.resolve("node-" + n + ".log");
    NodeProcess started = new NodeProcess(n, "node-" + n, n, log, List.of("sh", "-c", script), stopGrace);
    node = started;
    started.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.readString(log).contains("trapped"));
    return started;
  }
}
