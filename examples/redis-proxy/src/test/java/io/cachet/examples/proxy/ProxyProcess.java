package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.examples.support.Processes;
import io.cachet.examples.support.RawHttp;
import io.cachet.servers.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built {@code redis-proxy.jar} running as a separate process, configured through environment
 * variables as a user would, on 127.0.0.1 and free ports. {@link #close()} stops it by its own
 * process handle (SIGTERM, then SIGKILL after a deadline) and prints its log on failure paths.
 */
final class ProxyProcess implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ProxyProcess.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
  /** Variables of the test JVM's environment that would configure the proxy behind our back. */
  private static final List<String> PROXY_VARIABLES = List.of(
      "REDIS_ADDRESS", "GLOBAL_CACHE_EXPIRY", "CACHE_CAPACITY", "PROXY_HOST", "PROXY_PORT", "RESP_PORT",
      "MAX_CLIENTS", "PARALLELISM", "COHERENCE", "SEED", "MAX_REQUEST_BYTES", "REDIS_TIMEOUT",
      "REQUEST_TIMEOUT", "IDLE_TIMEOUT", "HTTP_IDLE_TIMEOUT", "THREADS", "MAX_PENDING_REQUESTS", "MAX_QUEUED_REPLY_BYTES",
      "REPLY_STALL_TIMEOUT");

  private final Process process;
  private final Path logFile;
  private final int httpPort;
  private final int respPort;
  private final HttpClient http;

  private ProxyProcess(Process process, Path logFile, int httpPort, int respPort) {
    this.process = process;
    this.logFile = logFile;
    this.httpPort = httpPort;
    this.respPort = respPort;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** Returns the jar the build made. */
  static Path jar() {
    Path jar = Path.of(System.getProperty("proxy.jar", "target/redis-proxy.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " does not exist; run mvn package first (Failsafe runs after it)");
    }
    return jar;
  }

  /** The exit code and output of a run of the jar that is expected to end by itself. */
  record Run(int exitCode, String output) {}

  /** Runs the jar with {@code args} and {@code env} and waits (at most 60 s) for it to exit. */
  static Run run(Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    PROXY_VARIABLES.forEach(builder.environment()::remove);
    builder.environment().putAll(env);
    try {
      Process process = builder.start();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("redis-proxy " + List.of(args) + " did not exit");
      }
      return new Run(process.exitValue(), new String(output, UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts the proxy with {@code env} (plus free PROXY_PORT and RESP_PORT) and waits for /health. */
  static ProxyProcess start(Map<String, String> env, String... jvmOptions) {
    IllegalStateException last = null;
    for (int attempt = 1; attempt <= 3; attempt++) {
      try {
        return startOnce(env, jvmOptions);
      } catch (PortTaken e) {
        last = e; // another process took a port between our probe and the proxy's bind
      }
    }
    throw last;
  }

  private static ProxyProcess startOnce(Map<String, String> env, String... jvmOptions) {
    int httpPort = freePort();
    int respPort = freePort();
    while (respPort == httpPort) {
      respPort = freePort();
    }
    Map<String, String> all = new LinkedHashMap<>();
    all.put("PROXY_HOST", "127.0.0.1");
    all.put("PROXY_PORT", Integer.toString(httpPort));
    all.put("RESP_PORT", Integer.toString(respPort));
    all.putAll(env);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(List.of(jvmOptions));
    command.add("-jar");
    command.add(jar().toString());
    Path logFile;
    Process process;
    try {
      // Kept for a look after a failure: target/proxy-logs/.
      Path logDir = Files.createDirectories(Path.of("target", "proxy-logs"));
      logFile = Files.createTempFile(logDir, "redis-proxy-", ".log");
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(logFile.toFile());
      PROXY_VARIABLES.forEach(builder.environment()::remove);
      builder.environment().putAll(all);
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    ProxyProcess proxy = new ProxyProcess(process, logFile, httpPort, Integer.parseInt(all.get("RESP_PORT")));
    proxy.awaitHealthy();
    log.info("redis-proxy pid {} up: HTTP {}, RESP {}, env {}", process.pid(), httpPort, proxy.respPort, env);
    return proxy;
  }

  private void awaitHealthy() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() - deadline < 0) {
      if (!process.isAlive()) {
        String output = log();
        if (output.contains("cannot listen on")) {
          throw new PortTaken(output);
        }
        throw new IllegalStateException("redis-proxy exited with " + process.exitValue() + ":\n" + output);
      }
      try {
        // A raw request with Connection: close, so no pooled connection holds a client slot.
        if (RawHttp.get(httpPort, "/health").status() == 200) {
          return;
        }
      } catch (UncheckedIOException e) {
        // not listening yet
      }
      try {
        process.waitFor(50, TimeUnit.MILLISECONDS); // the pause between probes, and exit detection
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    close();
    throw new IllegalStateException("redis-proxy not healthy within " + START_TIMEOUT + ":\n" + log());
  }

  int httpPort() {
    return httpPort;
  }

  int respPort() {
    return respPort;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  Process process() {
    return process;
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + httpPort + pathAndQuery);
  }

  /** GET over java.net.http (a real HTTP client, keep-alive). */
  HttpResponse<byte[]> get(String pathAndQuery) {
    return send(HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20)).GET().build());
  }

  HttpResponse<byte[]> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** GET over HTTP, returning the body as UTF-8. */
  String body(String pathAndQuery) {
    return new String(get(pathAndQuery).body(), UTF_8);
  }

  /** Opens a RESP connection to the proxy. */
  RespClient resp() {
    return RespClient.open(respPort);
  }

  /** Returns the value of one sample line of /metrics, e.g. {@code proxy_clients_rejected_total}. */
  double metric(String sample) {
    String text = RawHttp.get(httpPort, "/metrics").body();
    for (String line : text.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    throw new IllegalStateException("no metric " + sample + " in:\n" + text);
  }

  /** Returns what the proxy printed so far. */
  String log() {
    return Processes.log(logFile);
  }

  @Override
  public void close() {
    if (Processes.stop(process, STOP_TIMEOUT)) {
      log.warn("redis-proxy pid {} ignored SIGTERM for {}; killed it", process.pid(), STOP_TIMEOUT);
    }
  }

  static int freePort() {
    return Ports.free("127.0.0.1", 1)[0];
  }

  private static final class PortTaken extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    PortTaken(String message) {
      super(message);
    }
  }
}
