package io.cachet.redis;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * default mode only tracks keys read on the tracking connection itself.
 *
 * <p>Lifecycle, the part that matters for coherence: {@link Listener#up()} is called only after
 * tracking is on; {@link Listener#down} is called as soon as the connection is known or suspected
 * to be gone (an I/O error, Redis closing it, or a PING not answered within two ping intervals),
 * because invalidations may have been lost from then on. The loop then reconnects with
 * exponential backoff until closed. A server that refuses RESP3 or tracking is reported once
 * through {@link Listener#unsupported} and the thread ends.
 */
final class InvalidationChannel implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(InvalidationChannel.class);
  private static final Duration MIN_BACKOFF = Duration.ofMillis(50);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

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

  private final URI address;
  private final @Nullable String username;
  private final @Nullable String password;
  private final byte[] prefix;
  private final Duration connectTimeout;
  private final Duration pingInterval;
  private final Listener listener;
  private final Thread thread;
  private final CountDownLatch closedLatch = new CountDownLatch(1);
  private volatile @Nullable Socket socket;
  private volatile boolean closed;

  InvalidationChannel(
      String name,
      URI address,
      @Nullable String username,
      @Nullable String password,
      byte[] prefix,
      Duration connectTimeout,
      Duration pingInterval,
      Listener listener) {
    this.address = address;
    this.username = username;
    this.password = password;
    this.prefix = prefix.clone();
    this.connectTimeout = connectTimeout;
    this.pingInterval = pingInterval;
    this.listener = listener;
    this.thread = new Thread(this::run, "cachet-redis-invalidations-" + name);
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Drops the current connection, as if Redis had closed it; for tests. */
  void disconnectForTest() {
    closeSocket();
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
    Duration backoff = MIN_BACKOFF;
    boolean wasUp = false;
    while (!closed) {
      try (Socket s = new Socket()) {
        socket = s;
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(address.getHost(), address.getPort()), (int) connectTimeout.toMillis());
        s.setSoTimeout((int) Math.max(1, pingInterval.toMillis()));
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = new BufferedOutputStream(s.getOutputStream());
        String refusal = handshake(in, out);
        if (refusal != null) {
          listener.unsupported(refusal);
          return;
        }
        wasUp = true;
        backoff = MIN_BACKOFF;
        listener.up();
        readLoop(in, out);
      } catch (IOException | RuntimeException e) {
        if (closed) {
          return;
        }
        if (wasUp) {
          wasUp = false;
          log.warn("Redis invalidation channel to {} lost ({}); near cache flushed, reconnecting", address, e.toString());
          listener.down(e);
        } else {
          log.debug("Redis invalidation channel to {} not connected: {}", address, e.toString());
          listener.down(e);
        }
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

  /** Returns null when tracking is on, or why the server refused it. */
  private @Nullable String handshake(InputStream in, OutputStream out) throws IOException {
    if (username != null || password != null) {
      Resp3.write(out, "HELLO", "3", "AUTH", username != null ? username : "default", password != null ? password : "");
    } else {
      Resp3.write(out, "HELLO", "3");
    }
    Object hello = readReply(in);
    if (hello instanceof Resp3.Error error) {
      if (error.message().startsWith("NOAUTH") || error.message().startsWith("WRONGPASS")) {
        throw new IOException("Redis refused authentication: " + error.message());
      }
      return "HELLO 3 refused: " + error.message();
    }
    if (prefix.length > 0) {
      Resp3.write(out, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", prefix);
    } else {
      Resp3.write(out, "CLIENT", "TRACKING", "on", "BCAST");
    }
    Object tracking = readReply(in);
    if (tracking instanceof Resp3.Error error) {
      return "CLIENT TRACKING refused: " + error.message();
    }
    return null;
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
      } catch (SocketTimeoutException e) {
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
        // Quiet for a ping interval: probe; quiet for two with a probe pending: presume dead.
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
