package io.cachet.testkit.fault;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP relay that a test puts between a client and a server (Redis, a Kafka broker) to inject
 * network faults on command: {@linkplain #pass() pass} bytes through, {@linkplain #delay(Duration)
 * delay} them, {@linkplain #blackHole() black-hole} them (connections stay open, nothing is
 * answered, no RST and no FIN: a partition or a hung peer), or {@linkplain #cut() cut} every
 * connection at once (RST).
 *
 * <pre>{@code
 * try (TcpRelay relay = TcpRelay.start("127.0.0.1", redisPort)) {
 *   // point the client at relay.port()
 *   relay.blackHole();   // the client's requests now go unanswered
 *   relay.pass();        // and are answered again, in order
 * }
 * }</pre>
 *
 * <p>A black hole pauses the relay instead of dropping bytes, as TCP does during a partition:
 * what was sent meanwhile arrives, in order, once it heals. Connections accepted during a black hole
 * connect to the server only when it heals. The relay binds 127.0.0.1 on a free port. Each
 * connection uses two threads, one per direction; {@link #close()} closes every socket and stops
 * them. Thread-safe.
 */
public final class TcpRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);

  /** What the relay does with the bytes it receives. */
  public enum Mode {
    /** Forwards them at once. */
    PASS,
    /** Forwards each chunk after the configured delay. */
    DELAY,
    /** Holds them (and every new connection) until the mode changes. */
    BLACK_HOLE
  }

  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Thread acceptor;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicLong forwardedBytes = new AtomicLong();
  private volatile Mode mode = Mode.PASS;
  private volatile long delayNanos;
  private volatile boolean closed;

  private TcpRelay(InetSocketAddress target, ServerSocket server) {
    this.target = target;
    this.server = server;
    this.acceptor = new Thread(this::acceptLoop, "tcp-relay-accept-" + server.getLocalPort());
    acceptor.setDaemon(true);
  }

  /** Starts a relay on 127.0.0.1 and a free port, forwarding to {@code host:port}. */
  public static TcpRelay start(String host, int port) {
    return start(0, host, port);
  }

  /**
   * Starts a relay on 127.0.0.1 and {@code listenPort}, forwarding to {@code host:port}: for a
   * server that must be reached on a port chosen before the relay (a port written into a
   * broker's configuration); 0 picks a free one.
   *
   * @throws UncheckedIOException when the port cannot be bound
   */
  public static TcpRelay start(int listenPort, String host, int port) {
    requireNonNull(host, "host");
    if (listenPort < 0 || listenPort > 65_535) {
      throw new IllegalArgumentException("listenPort must be 0..65535, was " + listenPort);
    }
    try {
      ServerSocket server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort), 50);
      TcpRelay relay = new TcpRelay(new InetSocketAddress(host, port), server);
      relay.acceptor.start();
      return relay;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a TCP relay to " + host + ":" + port, e);
    }
  }

  /** Returns the port clients connect to. */
  public int port() {
    return server.getLocalPort();
  }

  /** Returns {@code 127.0.0.1:<port>}, the address clients connect to. */
  public String address() {
    return "127.0.0.1:" + port();
  }

  /** Returns the current mode. */
  public Mode mode() {
    return mode;
  }

  /** Returns how many connections the relay has accepted so far. */
  public int acceptedConnections() {
    return accepted.get();
  }

  /** Returns how many client connections are open now. */
  public int openConnections() {
    return clients.size();
  }

  /** Returns how many bytes the relay has forwarded, both directions together. */
  public long forwardedBytes() {
    return forwardedBytes.get();
  }

  /** Forwards bytes at once, releasing whatever a black hole held. */
  public void pass() {
    setMode(Mode.PASS, 0);
  }

  /** Forwards each chunk of bytes {@code delay} after it arrived. */
  public void delay(Duration delay) {
    requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must be >= 0, was " + delay);
    }
    setMode(Mode.DELAY, delay.toNanos());
  }

  /** Stops forwarding and answering, without closing anything, until another mode is set. */
  public void blackHole() {
    setMode(Mode.BLACK_HOLE, 0);
  }

  /** Closes every open connection with a reset (RST); the mode, and new connections, are unchanged. */
  public void cut() {
    for (Socket socket : sockets) {
      reset(socket);
    }
  }

  private void setMode(Mode newMode, long nanos) {
    lock.lock();
    try {
      delayNanos = nanos;
      mode = newMode;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    log.info("TCP relay {} -> {}: {}", address(), target, newMode + (nanos > 0 ? " " + Duration.ofNanos(nanos) : ""));
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      log.debug("Closing relay {} failed", address(), e);
    }
    cut();
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("TCP relay {} stopped accepting", address(), e);
        }
        return;
      }
      accepted.incrementAndGet();
      sockets.add(client);
      clients.add(client);
      Thread connector = new Thread(() -> connect(client), "tcp-relay-" + port() + "-connect");
      connector.setDaemon(true);
      connector.start();
    }
  }

  /** Connects a new client to the server, once no black hole holds it, and starts both pumps. */
  private void connect(Socket client) {
    Socket upstream = null;
    try {
      awaitOpen();
      if (closed) {
        reset(client);
        return;
      }
      upstream = new Socket();
      sockets.add(upstream);
      upstream.connect(target, 5_000);
      upstream.setTcpNoDelay(true);
      client.setTcpNoDelay(true);
      Socket server = upstream;
      Thread up = new Thread(() -> pump(client, server), "tcp-relay-" + port() + "-up");
      Thread down = new Thread(() -> pump(server, client), "tcp-relay-" + port() + "-down");
      up.setDaemon(true);
      down.setDaemon(true);
      up.start();
      down.start();
    } catch (IOException | InterruptedException e) {
      log.debug("TCP relay {} could not connect a client to {}", address(), target, e);
      reset(client);
      if (upstream != null) {
        reset(upstream);
      }
    }
  }

  private void pump(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      while (true) {
        awaitOpen(); // a black hole stops reading, so TCP's own buffers hold what is sent meanwhile
        int n = in.read(buffer);
        if (n < 0) {
          to.shutdownOutput(); // a FIN travels on as a FIN
          return;
        }
        long delay = delayNanos;
        if (mode == Mode.DELAY && delay > 0) {
          sleep(delay);
        }
        awaitOpen();
        // Counted before the write: the peer may act on the bytes (and a test read the count)
        // before this thread returns from it.
        forwardedBytes.addAndGet(n);
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (SocketException e) {
      // cut, closed, or the peer reset: close the pair
    } catch (IOException | InterruptedException e) {
      log.debug("TCP relay {} pump ended", address(), e);
    } finally {
      reset(from);
      reset(to);
    }
  }

  /** Waits while a black hole is on; returns at once when the relay is closed. */
  private void awaitOpen() throws InterruptedException {
    if (mode != Mode.BLACK_HOLE || closed) {
      return;
    }
    lock.lock();
    try {
      while (mode == Mode.BLACK_HOLE && !closed) {
        changed.await();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Waits {@code nanos}, or less if the mode changes or the relay closes. */
  private void sleep(long nanos) throws InterruptedException {
    lock.lock();
    try {
      long left = nanos;
      Mode at = mode;
      while (left > 0 && mode == at && !closed) {
        left = changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  private void reset(Socket socket) {
    sockets.remove(socket);
    clients.remove(socket);
    try {
      if (!socket.isClosed()) {
        socket.setSoLinger(true, 0); // close with RST, not FIN
        socket.close();
      }
    } catch (IOException e) {
      log.debug("Closing a relayed socket failed", e);
    }
  }

  @Override
  public String toString() {
    return "TcpRelay{" + address() + " -> " + target + ", " + mode + "}";
  }
}
