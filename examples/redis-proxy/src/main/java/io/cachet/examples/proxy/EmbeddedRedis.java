package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.core.ExecutableProvider;

/**
 * A {@code redis-server} child process on 127.0.0.1 and a free port, with no persistence, for a
 * first run without a Redis of one's own. The binary is the one bundled in
 * {@code com.github.codemonstur:embedded-redis} (Redis 6.2, which supports client tracking).
 *
 * <p>{@link #close()} stops the process (SIGTERM, then SIGKILL after a deadline) and deletes its
 * directory; only the process this object started is ever signalled. Not thread-safe.
 */
final class EmbeddedRedis implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedRedis.class);
  private static final String HOST = "127.0.0.1";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

  private final Path directory;
  private final Process process;
  private final int port;
  private boolean closed;

  private EmbeddedRedis(Path directory, Process process, int port) {
    this.directory = directory;
    this.process = process;
    this.port = port;
  }

  /**
   * Extracts the bundled binary, starts it and waits until it answers {@code PING}.
   *
   * @throws IllegalStateException when no binary fits this platform or Redis does not start
   */
  static EmbeddedRedis start() {
    Path directory;
    try {
      directory = Files.createTempDirectory("redis-proxy-embedded");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a directory for the embedded Redis", e);
    }
    Path executable;
    try {
      File dir = directory.toFile();
      executable = ExecutableProvider.newJarResourceProvider(() -> dir).get().toPath();
    } catch (IOException | RuntimeException e) {
      deleteRecursively(directory);
      throw new IllegalStateException("the embedded Redis has no binary for " + System.getProperty("os.name") + "/"
          + System.getProperty("os.arch") + "; start a Redis yourself and set REDIS_ADDRESS", e);
    }
    int port = freePort();
    List<String> command = List.of(executable.toString(),
        "--port", Integer.toString(port),
        "--bind", HOST,
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--dir", directory.toString(),
        "--logfile", "");
    Path logFile = directory.resolve("redis.log");
    Process process;
    try {
      process = new ProcessBuilder(command)
          .directory(directory.toFile())
          .redirectErrorStream(true)
          .redirectOutput(logFile.toFile())
          .start();
    } catch (IOException e) {
      deleteRecursively(directory);
      throw new UncheckedIOException("cannot run the embedded Redis " + executable, e);
    }
    EmbeddedRedis redis = new EmbeddedRedis(directory, process, port);
    long startNanos = System.nanoTime();
    long deadline = startNanos + START_TIMEOUT.toNanos();
    while (true) {
      if (!process.isAlive()) {
        String tail = logTail(logFile);
        redis.close();
        throw new IllegalStateException("the embedded Redis exited with code " + process.exitValue() + ": " + tail);
      }
      try {
        if ("+PONG".equals(redis.command("PING"))) {
          break;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (System.nanoTime() - deadline > 0) {
        redis.close();
        throw new IllegalStateException("the embedded Redis did not answer PING within " + START_TIMEOUT);
      }
      try {
        process.waitFor(10, TimeUnit.MILLISECONDS); // the pause between probes
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        redis.close();
        throw new IllegalStateException("interrupted while starting the embedded Redis", e);
      }
    }
    log.info("Embedded Redis (pid {}) ready on {}:{} in {} ms", process.pid(), HOST, port,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
    return redis;
  }

  /** Returns {@code host:port}. */
  String address() {
    return HOST + ":" + port;
  }

  /** Writes {@code seeded_key1..n = seeded_value1..n}, pipelined, and waits for every reply. */
  void seed(int n) {
    if (n <= 0) {
      return;
    }
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      int batch = 1000;
      for (int from = 1; from <= n; from += batch) {
        int to = Math.min(n, from + batch - 1);
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        for (int i = from; i <= to; i++) {
          frames.writeBytes(encode("SET", "seeded_key" + i, "seeded_value" + i));
        }
        frames.writeTo(out);
        out.flush();
        for (int i = from; i <= to; i++) {
          String reply = readLine(in);
          if (!reply.equals("+OK")) {
            throw new IllegalStateException("seeding the embedded Redis failed: " + reply);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("seeding the embedded Redis failed", e);
    }
    log.info("Seeded the embedded Redis with seeded_key1..seeded_key{}", n);
  }

  /** Stops Redis and deletes its directory; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      process.destroy();
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("Embedded Redis pid {} ignored SIGTERM for {}; killing it", process.pid(), STOP_TIMEOUT);
        process.destroyForcibly();
        process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
      log.info("Embedded Redis on {} stopped", address());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      deleteRecursively(directory);
    }
  }

  private String command(String... args) throws IOException {
    try (Socket socket = connect()) {
      socket.getOutputStream().write(encode(args));
      socket.getOutputStream().flush();
      return readLine(socket.getInputStream());
    }
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress(HOST, port), 500);
      socket.setSoTimeout(5_000);
      return socket;
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  private static byte[] encode(String... args) {
    StringBuilder sb = new StringBuilder().append('*').append(args.length).append("\r\n");
    for (String arg : args) {
      sb.append('$').append(arg.getBytes(UTF_8).length).append("\r\n").append(arg).append("\r\n");
    }
    return sb.toString().getBytes(UTF_8);
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("Redis closed the connection");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(UTF_8);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on " + HOST, e);
    }
  }

  private static String logTail(Path logFile) {
    try {
      String text = Files.readString(logFile, UTF_8);
      return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static void deleteRecursively(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      log.debug("cannot delete {}", root, e);
    }
  }
}
