package io.cachet.redis;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dedicated connection that receives Redis's invalidation messages, on a thread of its own.
 *
 * <p>The connection speaks RESP3 ({@code HELLO 3}) and turns on broadcast tracking for the cache's
 * key prefix ({@code CLIENT TRACKING on BCAST PREFIX p}), so Redis pushes
 * {@code invalidate [keys]} for every change to a matching key by any client, including expiry
 * and eviction, and {@code invalidate null} on {@code FLUSHALL}/{@code FLUSHDB}. Broadcast mode
 * is used because Cachet's reads go through Redisson's pooled connections, not this one, and the
 * default mode only tracks keys read on the tracking connection itself. A {@code rediss://}
 * address is reached over TLS, verifying the server's certificate and host name.
 *
 * <p>Lifecycle, the part that matters for coherence: {@link Listener#up()} is called only after
 * tracking is on; {@link Listener#down} is called as soon as the connection is known or suspected
 * to be gone (an I/O or protocol error, Redis closing it or refusing the handshake, a PING not
 * answered within two ping intervals, a frame stalled half-way, or anything thrown on this thread,
 * errors included), because invalidations may have been lost from then on. The loop then
 * reconnects with exponential backoff until closed, and should the thread ever end while the
 * channel is open, it calls {@code down} on its way out. Only a server that does not know RESP3 or
 * tracking, or forbids them (an unknown command or subcommand, {@code NOPROTO}, {@code NOPERM}), is
 * reported through {@link Listener#unsupported}, after which the thread ends; any other refusal
 * ({@code -ERR max number of clients reached}, {@code -BUSY}, ...) is a failed attempt, retried.
 */
final class InvalidationChannel implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(InvalidationChannel.class);
  private static final Duration MIN_BACKOFF = Duration.ofMillis(50);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
  /** How long a connection must have lasted for the next reconnect to start from the shortest back-off. */
  static final Duration STABLE = MAX_BACKOFF.multipliedBy(2);
  /** Failed attempts in a row after which the channel says so at WARN (once per outage). */
  static final int WARN_AFTER_FAILURES = 3;

  /** Receives what the channel learns; called on the channel's thread, one call at a time. */
  interface Listener {
    /** Tracking is on: changes from now on will be reported. */
    void up();

    /** The channel is gone: changes may have been missed since the last {@link #up()}. */
    void down(Throwable cause);

    /** {@code redisKey} (with the prefix) changed. */
    void invalidate(byte[] redisKey);

    /** Every key may have changed ({@code FLUSHALL}, {@code FLUSHDB}). */
    void invalidateAll();

    /** The server does not support tracking; the channel stops. */
    void unsupported(String reason);
  }

  /** The node, {@code host:port}; its host (an IPv6 literal in brackets) and port. */
  private final String address;
  private final String host;
  private final int port;
  private final @Nullable SSLSocketFactory tls;
  private final @Nullable String username;
  private final @Nullable String password;
  private final List<byte[]> prefixes;
  private final Duration connectTimeout;
  private final Duration pingInterval;
  private final Listener listener;
  private final Thread thread;
  private final CountDownLatch closedLatch = new CountDownLatch(1);
  private final AtomicLong failedAttempts = new AtomicLong();
  private volatile @Nullable Socket socket;
  private volatile boolean closed;
  private volatile boolean unsupported;
  private volatile boolean startFailed;
  /** While set, every connection attempt fails at once; for tests. */
  volatile boolean holdDownForTest;

  /**
   * Creates the channel; {@link #start()} connects.
   *
   * @param hostPort the node, {@code host:port} ({@code [v6]:port} for an IPv6 literal); the host
   *     is any name the resolver knows, including ones {@link java.net.URI} refuses ({@code my_redis})
   * @param tls the factory for a TLS connection, null for plain TCP
   */
  InvalidationChannel(
      String name,
      String hostPort,
      @Nullable SSLSocketFactory tls,
      @Nullable String username,
      @Nullable String password,
      List<byte[]> prefixes,
      Duration connectTimeout,
      Duration pingInterval,
      Listener listener) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("not host:port: '" + hostPort + "'");
    }
    this.address = hostPort;
    this.host = hostPort.substring(0, colon);
    this.port = Integer.parseInt(hostPort.substring(colon + 1));
    this.tls = tls;
    this.username = username;
    this.password = password;
    this.prefixes = prefixes.stream().map(byte[]::clone).toList();
    this.connectTimeout = connectTimeout;
    this.pingInterval = pingInterval;
    this.listener = listener;
    this.thread = new Thread(this::run, "cachet-redis-invalidations-" + name);
    this.thread.setDaemon(true);
  }

  void start() {
    try {
      thread.start();
    } catch (Throwable t) { // no thread could be made: the channel never runs, and must be replaced
      startFailed = true;
      throw t;
    }
  }

  /** Fails as {@link #start} does when no thread can be made; for tests. */
  void failStart(Error error) {
    startFailed = true;
    throw error;
  }

  /**
   * Whether this channel's thread ended while the channel is open and tracking is supported: it
   * will not reconnect, and must be replaced. Only something that escaped its loop ends it so.
   */
  boolean ended() {
    return !closed && !unsupported && (startFailed || thread.getState() == Thread.State.TERMINATED);
  }

  /** Drops the current connection, as if Redis had closed it; for tests. */
  void disconnectForTest() {
    closeSocket();
  }

  /** The host connected to, as the node address names it. */
  String host() {
    return host;
  }

  int port() {
    return port;
  }

  /** Connection attempts that failed since the channel started; for tests. */
  long failedAttempts() {
    return failedAttempts.get();
  }

  /** The thread that reads the channel; for tests. */
  Thread threadForTest() {
    return thread;
  }

  @Override
  public void close() {
    closed = true;
    closedLatch.countDown();
    closeSocket();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    try {
      loop();
    } catch (Throwable t) {
      log.error("Redis invalidation channel to {} failed", address, t);
    } finally {
      // The thread ends while the channel is open only if something escaped the loop: nothing will
      // invalidate the near cache any more, so it must stop being trusted.
      if (!closed && !unsupported) {
        down(new IllegalStateException("the invalidation thread ended"));
      }
    }
  }

  private void loop() {
    Duration backoff = MIN_BACKOFF;
    int failuresInARow = 0; // attempts that did not connect, since the last that did
    int dropsInARow = 0; // connections lost within STABLE of connecting, since one that lasted
    int errorsInARow = 0; // Errors thrown out of a connection, since one that lasted
    while (!closed) {
      boolean connected = false;
      long connectedAt = 0;
      try (Socket s = connect()) {
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = new BufferedOutputStream(s.getOutputStream());
        String refusal = handshake(in, out);
        if (refusal != null) {
          unsupported = true;
          listener.unsupported(refusal);
          return;
        }
        connected = true;
        connectedAt = System.nanoTime();
        if (failuresInARow >= WARN_AFTER_FAILURES) {
          log.info("Redis invalidation channel to {} connected after {} failed attempts", address, failuresInARow);
        }
        failuresInARow = 0;
        listener.up();
        readLoop(in, out);
      } catch (Throwable e) { // an Error too: the loop must survive it, and down() must run
        if (closed) {
          return;
        }
        // The back-off starts again only after a connection that lasted: one dropped sooner (a
        // server or proxy that takes the handshake and then closes) backs off as a failure does.
        boolean lasted = connected && System.nanoTime() - connectedAt >= STABLE.toNanos();
        if (lasted) {
          backoff = MIN_BACKOFF;
          dropsInARow = 0;
          errorsInARow = 0;
        } else if (connected) {
          dropsInARow++;
        } else {
          failedAttempts.incrementAndGet();
          failuresInARow++;
        }
        if (e instanceof Error && errorsInARow++ == 0) { // with its stack trace once, not every cycle
          log.error("Redis invalidation channel to {} failed; near cache flushed, reconnecting", address, e);
        } else if (e instanceof Error) {
          log.debug("Redis invalidation channel to {} failed again: {}", address, e.toString());
        } else if (connected && dropsInARow <= 1) {
          log.warn("Redis invalidation channel to {} lost ({}); near cache flushed, reconnecting", address, e.toString());
        } else if (connected && dropsInARow == WARN_AFTER_FAILURES) {
          log.warn("Redis invalidation channel to {} keeps losing its connection within {} s of making it ({} times"
              + " in a row, last: {}); the near cache is flushed each time; reconnecting with back-off", address,
              STABLE.toSeconds(), dropsInARow, e.toString());
        } else if (!connected && failuresInARow == WARN_AFTER_FAILURES) {
          log.warn(
              "Redis invalidation channel to {} cannot connect ({} attempts, last: {}); the near cache is not used "
                  + "until it does; still retrying",
              address, failuresInARow, e.toString());
        } else {
          log.debug("Redis invalidation channel to {} not connected: {}", address, e.toString());
        }
        down(e);
      } finally {
        socket = null;
      }
      if (closed) {
        return;
      }
      try {
        if (closedLatch.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  private void down(Throwable cause) {
    try {
      listener.down(cause);
    } catch (Throwable e) { // an Error too: the loop goes on, and reports the next loss
      log.warn("Handling the loss of the Redis invalidation channel to {} failed", address, e);
    }
  }

  /** Opens the connection, over TLS for {@code rediss://}, with the handshake's read timeout set. */
  private Socket connect() throws IOException {
    if (holdDownForTest) {
      throw new IOException("held down by a test");
    }
    Socket s = new Socket();
    socket = s;
    try {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
      if (closed) {
        throw new IOException("closed");
      }
      Socket connected = s;
      if (tls != null) {
        SSLSocket ssl = (SSLSocket) tls.createSocket(s, host, port, true);
        SSLParameters parameters = ssl.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // check the certificate names this host
        ssl.setSSLParameters(parameters);
        socket = ssl;
        ssl.setSoTimeout((int) Math.max(1, connectTimeout.toMillis()));
        ssl.startHandshake();
        connected = ssl;
      }
      connected.setSoTimeout((int) Math.max(1, pingInterval.toMillis()));
      return connected;
    } catch (IOException | RuntimeException e) {
      try {
        s.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** Returns null when tracking is on, or why the server does not support it. */
  private @Nullable String handshake(InputStream in, OutputStream out) throws IOException {
    if (username != null || password != null) {
      Resp3.write(out, "HELLO", "3", "AUTH", username != null ? username : "default", password != null ? password : "");
    } else {
      Resp3.write(out, "HELLO", "3");
    }
    Object hello = readReply(in);
    if (hello instanceof Resp3.Error error) {
      if (meansUnsupported(error.message())) {
        return "HELLO 3 refused: " + error.message();
      }
      // NOAUTH, WRONGPASS, max clients reached, BUSY, LOADING...: a failed attempt, retried.
      throw new IOException("Redis refused HELLO 3: " + error.message());
    }
    List<Object> tracking = new ArrayList<>(List.of("CLIENT", "TRACKING", "on", "BCAST"));
    for (byte[] prefix : prefixes) {
      if (prefix.length == 0) {
        tracking = new ArrayList<>(List.of("CLIENT", "TRACKING", "on", "BCAST")); // every key
        break;
      }
      tracking.add("PREFIX");
      tracking.add(prefix);
    }
    Resp3.write(out, tracking.toArray());
    Object trackingReply = readReply(in);
    if (trackingReply instanceof Resp3.Error error) {
      if (meansUnsupported(error.message())) {
        return "CLIENT TRACKING refused: " + error.message();
      }
      throw new IOException("Redis refused CLIENT TRACKING: " + error.message());
    }
    return null;
  }

  /**
   * Whether an error reply means the server cannot or may not do RESP3 or tracking (so retrying is
   * pointless), as opposed to a passing condition.
   */
  static boolean meansUnsupported(String error) {
    String message = error.toUpperCase(Locale.ROOT);
    return message.startsWith("NOPROTO")
        || message.startsWith("NOPERM")
        || message.contains("UNKNOWN COMMAND")
        || message.contains("UNKNOWN SUBCOMMAND");
  }

  /** Reads the reply to a command, handling any pushes that arrive before it. */
  private @Nullable Object readReply(InputStream in) throws IOException {
    long deadline = System.nanoTime() + connectTimeout.toNanos();
    while (true) {
      try {
        Object frame = Resp3.read(in);
        if (frame instanceof Resp3.Push push) {
          handle(push);
          continue;
        }
        return frame;
      } catch (SocketTimeoutException e) { // only ever at a frame boundary: nothing was consumed
        if (System.nanoTime() - deadline > 0) {
          throw new IOException("Redis did not answer within " + connectTimeout, e);
        }
      }
    }
  }

  private void readLoop(InputStream in, OutputStream out) throws IOException {
    boolean awaitingPong = false;
    while (!closed) {
      Object frame;
      try {
        frame = Resp3.read(in);
      } catch (SocketTimeoutException e) {
        // Resp3.read throws this only when no byte of a new frame arrived, so the stream is still
        // in step. Quiet for a ping interval: probe; quiet for two with a probe pending: presume dead.
        if (awaitingPong) {
          throw new IOException("Redis did not answer PING within " + pingInterval, e);
        }
        Resp3.write(out, "PING");
        awaitingPong = true;
        continue;
      }
      if (frame instanceof Resp3.Push push) {
        handle(push);
      } else if (frame instanceof Resp3.Error error) {
        throw new IOException("Redis error on the invalidation channel: " + error.message());
      } else {
        awaitingPong = false; // PONG (the only command we send here)
      }
    }
  }

  private void handle(Resp3.Push push) {
    if (!push.kind().equals("invalidate") || push.parts().size() < 2) {
      return;
    }
    Object keys = push.parts().get(1);
    if (keys == null) {
      listener.invalidateAll();
    } else if (keys instanceof List<?> list) {
      for (Object key : list) {
        if (key instanceof byte[] bytes) {
          listener.invalidate(bytes);
        }
      }
    }
  }

  private void closeSocket() {
    Socket s = socket;
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        log.debug("Closing the invalidation socket failed", e);
      }
    }
  }
}
