package io.cachet.examples.cluster;

/**
 * A node as the balancer sees it: where it listens and whether it takes traffic. {@code ready}
 * follows the node's {@code /health/ready}, polled every {@link Balancer#POLL_INTERVAL}; a failed
 * connection or the launcher's kill clears it at once (a passive check). Thread-safe.
 */
final class Backend {

  final int index;
  final String id;
  final String host;
  final int port;
  private volatile boolean ready;

  Backend(int index, String id, String host, int port) {
    this.index = index;
    this.id = id;
    this.host = host;
    this.port = port;
  }

  boolean ready() {
    return ready;
  }

  void ready(boolean ready) {
    this.ready = ready;
  }

  String url() {
    return "http://" + host + ":" + port;
  }

  @Override
  public String toString() {
    return id + "@" + host + ":" + port + (ready ? " (ready)" : " (not ready)");
  }
}
