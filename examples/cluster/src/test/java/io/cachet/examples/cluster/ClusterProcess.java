package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachet.examples.support.Processes;
import io.cachet.servers.Ports;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built {@code cluster.jar} launcher running as a separate process, as a user would start it:
 * its own Kafka broker JVM, N node JVMs and the balancer, on 127.0.0.1 and free ports. Tests drive
 * it over HTTP (the API, the nodes directly, and the balancer's {@code /admin} endpoints) and its
 * stdin. {@link #close()} stops it by its own process handle (SIGTERM: it stops everything it
 * started), SIGKILL after a deadline.
 */
final class ClusterProcess implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ClusterProcess.class);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
  /**
   * The launcher's own worst case: its nodes' stop grace (31 s with the default write timeout),
   * 15 s for a SIGKILL to take, then the broker's stop; normally it takes a few seconds.
   */
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Fast-starting, small node JVMs: three of them and a broker share two CPUs. */
  static final String NODE_JVM_OPTIONS = "-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

  /** A response: status, body and headers (names lower case). */
  record Response(int status, String body, Map<String, List<String>> headers) {
    String header(String name) {
      List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new IllegalStateException("not JSON: " + body, e);
      }
    }
  }

  private final Process process;
  private final Path output;
  private final int port;
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private ClusterProcess(Process process, Path output, int port) {
    this.process = process;
    this.output = output;
    this.port = port;
  }

  static Path jar() {
    Path jar = Path.of(System.getProperty("cluster.jar", "target/cluster.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " does not exist; run mvn package first (Failsafe runs after it)");
    }
    return jar;
  }

  /** Starts the launcher with {@code nodes} nodes and {@code args}, and waits until every node is ready. */
  static ClusterProcess start(int nodes, String... args) {
    return start(nodes, List.of("-Xmx256m"), NODE_JVM_OPTIONS, args);
  }

  /**
   * Starts the launcher as above with {@code launcherJvmOptions} for its own JVM (which runs the
   * balancer) and {@code nodeJvmOptions} for the nodes'.
   */
  static ClusterProcess start(int nodes, List<String> launcherJvmOptions, String nodeJvmOptions, String... args) {
    // The balancer's port is picked here and bound by the launcher, which picks its broker's and
    // nodes' ports in its own JVM: rarely, both pick the same one. The launcher then exits at once
    // saying so, and a new port is tried.
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(nodes, launcherJvmOptions, nodeJvmOptions, args);
      } catch (IllegalStateException e) {
        if (attempt == 3 || e.getMessage() == null || !e.getMessage().contains("Address already in use")) {
          throw e;
        }
        log.warn("cluster launcher could not bind a port another process took meanwhile; starting it again");
      }
    }
  }

  private static ClusterProcess startOnce(int nodes, List<String> launcherJvmOptions, String nodeJvmOptions,
      String... args) {
    int port = freePort();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    command.addAll(launcherJvmOptions);
    command.addAll(List.of(
        "-jar", jar().toString(),
        "--nodes", Integer.toString(nodes), "--port", Integer.toString(port), "--node-base-port", "0",
        "--node-jvm-options", nodeJvmOptions, "--threads", "2"));
    command.addAll(List.of(args));
    Path output;
    Process process;
    try {
      Path logs = Files.createDirectories(Path.of("target", "cluster-logs"));
      output = Files.createTempFile(logs, "launcher-", ".log");
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(output.toFile());
      NodeProcess.NODE_VARIABLES.forEach(builder.environment()::remove);
      List.of("NODES", "BALANCER_PORT", "NODE_BASE_PORT", "CLUSTER_HOST", "LOG_DIR", "NODE_JVM_OPTIONS",
          "REQUEST_TIMEOUT").forEach(builder.environment()::remove);
      builder.environment().put("LOG_DIR", logs.toAbsolutePath().resolve(output.getFileName().toString()
          .replace(".log", "")).toString());
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    ClusterProcess cluster = new ClusterProcess(process, output, port);
    try {
      cluster.awaitAllReady(nodes);
    } catch (RuntimeException | AssertionError e) {
      String text = cluster.log();
      cluster.close();
      throw new IllegalStateException("the cluster did not get ready:\n" + text, e);
    }
    log.info("cluster launcher pid {} ready: balancer {}, {} nodes", process.pid(), port, nodes);
    return cluster;
  }

  private void awaitAllReady(int nodes) {
    // The launcher exits when it cannot start (a port taken, say): fail then, not after the timeout.
    await().atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(200))
        .failFast("the launcher exited", () -> {
          if (!process.isAlive()) {
            throw new AssertionError("exit code " + process.exitValue());
          }
        })
        .ignoreExceptions().until(() -> {
      JsonNode all = admin("GET", "/admin/nodes").json().get("nodes");
      if (all.size() != nodes) {
        return false;
      }
      for (JsonNode node : all) {
        if (!node.get("ready").asBoolean()) {
          return false;
        }
      }
      return true;
    });
  }

  int port() {
    return port;
  }

  String balancer() {
    return "http://127.0.0.1:" + port;
  }

  /** Returns node {@code n}'s base URL (1-based). */
  String node(int n) {
    return admin("GET", "/admin/nodes").json().get("nodes").get(n - 1).get("url").asText();
  }

  /** Returns node {@code n}'s port. */
  int nodePort(int n) {
    return URI.create(node(n)).getPort();
  }

  /** Whether the balancer counts node {@code n} as ready. */
  boolean nodeReady(int n) {
    return admin("GET", "/admin/nodes").json().get("nodes").get(n - 1).get("ready").asBoolean();
  }

  Response admin(String method, String path) {
    return send(method, balancer() + path, null, null);
  }

  Response get(String baseUrl, String key) {
    return send("GET", baseUrl + "/api/cache/" + key, null, null);
  }

  Response post(String baseUrl, String keyAndQuery, String json) {
    return send("POST", baseUrl + "/api/cache/" + keyAndQuery, "application/json", json);
  }

  Response delete(String baseUrl, String key) {
    return send("DELETE", baseUrl + "/api/cache/" + key, null, null);
  }

  Response send(String method, String url, String contentType, String body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body, UTF_8));
    try {
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(UTF_8));
      return new Response(response.statusCode(), response.body(), response.headers().map());
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + url + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Writes a console command to the launcher's stdin. */
  void console(String line) {
    try {
      OutputStream in = process.getOutputStream();
      in.write((line + "\n").getBytes(UTF_8));
      in.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** The launcher's process id (its JVM runs the balancer). */
  long pid() {
    return process.pid();
  }

  /** The process id of node {@code n}'s JVM, a child of the launcher. */
  long nodePid(int n) {
    return admin("GET", "/admin/nodes").json().get("nodes").get(n - 1).get("pid").asLong();
  }

  /** What the launcher printed so far. */
  String log() {
    return Processes.log(output);
  }

  @Override
  public void close() {
    if (Processes.stop(process, STOP_TIMEOUT)) {
      log.warn("cluster launcher pid {} ignored SIGTERM for {}; killed it", process.pid(), STOP_TIMEOUT);
    }
  }

  static int freePort() {
    return Ports.free("127.0.0.1", 1)[0];
  }
}
