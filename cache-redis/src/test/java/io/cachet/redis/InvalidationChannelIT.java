package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cachet.testkit.redis.RedisServerExtension;
import io.cachet.testkit.redis.RespConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The invalidation channel on its own: TLS, refusals, failures on its thread, logging. */
@Tag("redis")
final class InvalidationChannelIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final Duration DEADLINE = Duration.ofSeconds(15);

  private final String prefix = "chan-" + UUID.randomUUID() + ":";
  private final List<InvalidationChannel> channels = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    channels.forEach(InvalidationChannel::close);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** Records what the channel reports. */
  private static final class Recorder implements InvalidationChannel.Listener {
    final AtomicInteger ups = new AtomicInteger();
    final AtomicInteger downs = new AtomicInteger();
    final List<String> keys = Collections.synchronizedList(new ArrayList<>());
    final List<String> downCauses = Collections.synchronizedList(new ArrayList<>());
    volatile @Nullable String unsupported;
    final AtomicBoolean throwOnNextInvalidation = new AtomicBoolean();

    @Override
    public void up() {
      ups.incrementAndGet();
    }

    @Override
    public void down(Throwable cause) {
      downCauses.add(String.valueOf(cause.getMessage()));
      downs.incrementAndGet();
    }

    @Override
    public void invalidate(byte[] redisKey) {
      if (throwOnNextInvalidation.compareAndSet(true, false)) {
        throw new StackOverflowError("thrown by the test's listener");
      }
      keys.add(new String(redisKey, StandardCharsets.UTF_8));
    }

    @Override
    public void invalidateAll() {}

    @Override
    public void unsupported(String reason) {
      unsupported = reason;
    }
  }

  private InvalidationChannel start(String address, javax.net.ssl.@Nullable SSLSocketFactory tls, Recorder recorder) {
    InvalidationChannel channel = new InvalidationChannel(
        "test", address, tls, null, null, java.util.List.of(prefix.getBytes(StandardCharsets.UTF_8)),
        Duration.ofSeconds(2), Duration.ofSeconds(1), recorder);
    channels.add(channel);
    channel.start();
    return channel;
  }

  // ------------------------------------------------------------ TLS

  @Test
  void rediss_speaksTlsAndReceivesInvalidations(@TempDir Path dir) throws Exception {
    SSLContext tls = selfSigned(dir, "SAN=ip:127.0.0.1,dns:localhost");
    TlsProxy proxy = new TlsProxy(tls, REDIS.server().port());
    closeables.add(proxy);
    Recorder recorder = new Recorder();
    start("127.0.0.1:" + proxy.port(), tls.getSocketFactory(), recorder);

    await().atMost(DEADLINE).until(() -> recorder.ups.get() == 1);
    assertThat(proxy.handshakes.get()).as("the connection went through the TLS terminator").isEqualTo(1);
    REDIS.server().command("SET", prefix + "k", "v");
    await().atMost(DEADLINE).until(() -> recorder.keys.contains(prefix + "k"));
  }

  @Test
  void rediss_certificateForAnotherHost_isRefused(@TempDir Path dir) throws Exception {
    SSLContext tls = selfSigned(dir, "SAN=dns:other.example");
    TlsProxy proxy = new TlsProxy(tls, REDIS.server().port());
    closeables.add(proxy);
    Recorder recorder = new Recorder();
    InvalidationChannel channel = start("127.0.0.1:" + proxy.port(), tls.getSocketFactory(), recorder);

    await().atMost(DEADLINE).until(() -> channel.failedAttempts() >= 2);
    assertThat(recorder.ups).hasValue(0);
    assertThat(recorder.unsupported).isNull();
  }

  // ------------------------------------------------------------ refusals and failures

  @Test
  void serverRefusingTheConnection_isRetriedNotTakenForMissingSupport() {
    Recorder recorder = new Recorder();
    InvalidationChannel channel = start(REDIS.server().address(), null, recorder);
    await().atMost(DEADLINE).until(() -> recorder.ups.get() == 1);

    try (RespConnection admin = REDIS.server().connect()) {
      Object maxClients = ((List<?>) admin.command("CONFIG", "GET", "maxclients")).get(1);
      admin.command("CONFIG", "SET", "maxclients", "1"); // this connection is the one client allowed
      try {
        long failed = channel.failedAttempts();
        channel.disconnectForTest();
        // Redis answers each new connection with "-ERR max number of clients reached".
        await().atMost(DEADLINE).until(() -> channel.failedAttempts() >= failed + 2
            && List.copyOf(recorder.downCauses).stream().anyMatch(m -> m.contains("max number of clients reached")));
        assertThat(recorder.unsupported).as("a passing refusal is not a missing feature").isNull();
        assertThat(recorder.downs.get()).isGreaterThanOrEqualTo(1);
        assertThat(recorder.ups).hasValue(1);
      } finally {
        admin.command("CONFIG", "SET", "maxclients", String.valueOf(maxClients));
      }
    }
    await().atMost(DEADLINE).until(() -> recorder.ups.get() == 2);
  }

  @Test
  void errorThrownOnTheChannelThread_goesDownAndReconnects() {
    Recorder recorder = new Recorder();
    start(REDIS.server().address(), null, recorder);
    await().atMost(DEADLINE).until(() -> recorder.ups.get() == 1);

    recorder.throwOnNextInvalidation.set(true);
    REDIS.server().command("SET", prefix + "boom", "v");
    await().atMost(DEADLINE).until(() -> recorder.downs.get() >= 1 && recorder.ups.get() >= 2);
    REDIS.server().command("SET", prefix + "after", "v");
    await().atMost(DEADLINE).until(() -> recorder.keys.contains(prefix + "after"));
  }

  /**
   * A server (or a proxy in front of it) that takes the handshake and then drops every connection:
   * each short-lived connection counts as a failed attempt, so reconnects back off (50, 100, 200,
   * 400, 800 ms...) instead of starting again every 50 ms.
   */
  @Test
  void serverDroppingEachConnectionAfterTheHandshake_isReconnectedWithGrowingBackOff() throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    closeables.add(server);
    AtomicInteger connections = new AtomicInteger();
    long[] acceptedAt = new long[6]; // written before connections counts it, read after
    Thread acceptor = new Thread(() -> {
      byte[] buffer = new byte[4096];
      while (!server.isClosed()) {
        try (Socket client = server.accept()) {
          int n = connections.get();
          if (n < acceptedAt.length) {
            acceptedAt[n] = System.nanoTime();
          }
          connections.incrementAndGet();
          InputStream in = client.getInputStream();
          OutputStream out = client.getOutputStream();
          for (int reply = 0; reply < 2 && in.read(buffer) > 0; reply++) { // HELLO, then CLIENT TRACKING
            out.write("+OK\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
        } catch (IOException e) {
          // closed by the test, or the client gave up: next
        }
      }
    }, "dropping-server");
    acceptor.setDaemon(true);
    acceptor.start();
    try (Warnings warnings = new Warnings("127.0.0.1:" + server.getLocalPort())) {
      Recorder recorder = new Recorder();
      InvalidationChannel channel = start("127.0.0.1:" + server.getLocalPort(), null, recorder);

      await().atMost(DEADLINE).until(() -> connections.get() >= 6);
      // Five waits between six connections, timed where they are accepted: at least
      // 50 + 100 + 200 + 400 + 800 ms with back-off, a few ms without.
      assertThat(Duration.ofNanos(acceptedAt[5] - acceptedAt[0])).isGreaterThanOrEqualTo(Duration.ofMillis(1_500));
      assertThat(recorder.ups.get()).as("each connection came up").isGreaterThanOrEqualTo(5);
      channel.close();
      // The first loss, then once that it keeps happening: not a WARN per connection.
      assertThat(warnings.messages()).satisfiesExactly(
          lost -> assertThat(lost).contains("lost"),
          flapping -> assertThat(flapping).contains("keeps losing its connection"));
    }
  }

  /** The WARN lines of the channel to {@code address}, while open (the class's tests run in parallel). */
  private static final class Warnings implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger(InvalidationChannel.class);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final String address;

    Warnings(String address) {
      this.address = address;
      appender.start();
      logger.addAppender(appender);
    }

    List<String> messages() {
      return new ArrayList<>(appender.list).stream().filter(e -> e.getLevel() == Level.WARN)
          .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(address)).toList();
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
    }
  }

  @Test
  void unreachableServer_warnsOnceNotOnEveryRetry() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    try (Warnings warnings = new Warnings("127.0.0.1:" + port)) {
      Recorder recorder = new Recorder();
      InvalidationChannel channel = start("127.0.0.1:" + port, null, recorder);
      await().atMost(DEADLINE).until(() -> channel.failedAttempts() >= InvalidationChannel.WARN_AFTER_FAILURES + 2);
      channel.close();
      assertThat(warnings.messages()).singleElement()
          .satisfies(message -> assertThat(message).contains("cannot connect").contains(String.valueOf(port)));
      assertThat(recorder.ups).hasValue(0);
    }
  }

  // ------------------------------------------------------------ TLS fixtures

  /**
   * A TLS context whose key and trust material is one self-signed certificate made by
   * {@code keytool} with the given subject alternative names.
   */
  private static SSLContext selfSigned(Path dir, String san) throws Exception {
    Path keystore = dir.resolve("redis.p12");
    char[] password = "changeit".toCharArray();
    Process keytool = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
            "-genkeypair", "-alias", "redis", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=redis-test", "-ext", san, "-validity", "2",
            "-keystore", keystore.toString(), "-storetype", "PKCS12",
            "-storepass", "changeit", "-keypass", "changeit")
        .redirectErrorStream(true)
        .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(output).isZero();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = java.nio.file.Files.newInputStream(keystore)) {
      store.load(in, password);
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, password);
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
    return context;
  }

  /** Terminates TLS on a local port and forwards the plain bytes to Redis, as a TLS proxy would. */
  private static final class TlsProxy implements AutoCloseable {
    final AtomicInteger handshakes = new AtomicInteger();
    private final SSLServerSocket server;
    private final int redisPort;
    private final List<Socket> sockets = Collections.synchronizedList(new ArrayList<>());

    TlsProxy(SSLContext tls, int redisPort) throws IOException {
      this.redisPort = redisPort;
      this.server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(this::accept, "tls-proxy");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          SSLSocket client = (SSLSocket) server.accept();
          sockets.add(client);
          Thread handshake = new Thread(() -> {
            try {
              client.startHandshake();
              handshakes.incrementAndGet();
              Socket redis = new Socket(InetAddress.getLoopbackAddress(), redisPort);
              sockets.add(redis);
              pump(client.getInputStream(), redis.getOutputStream(), redis);
              pump(redis.getInputStream(), client.getOutputStream(), client);
            } catch (IOException e) {
              closeQuietly(client); // a refused handshake, or the test is over
            }
          }, "tls-proxy-connection");
          handshake.setDaemon(true);
          handshake.start();
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private void pump(InputStream from, OutputStream to, Socket toSocket) {
      Thread pump = new Thread(() -> {
        try {
          from.transferTo(to);
        } catch (IOException e) {
          // one side went away
        } finally {
          closeQuietly(toSocket);
        }
      }, "tls-proxy-pump");
      pump.setDaemon(true);
      pump.start();
    }

    private static void closeQuietly(Socket socket) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      synchronized (sockets) {
        sockets.forEach(TlsProxy::closeQuietly);
      }
    }
  }
}
