package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachet.examples.support.ConnectionLimit;
import io.cachet.examples.support.HttpErrors;
import io.cachet.examples.support.Json;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Epoll where available (Linux x86_64, aarch64), NIO elsewhere; and the HTTP server set-up the
 * node and the balancer share.
 */
final class NettyTransport {

  private static final boolean EPOLL = Epoll.isAvailable();

  private NettyTransport() {}

  static EventLoopGroup group(int threads, String name) {
    return EPOLL
        ? new EpollEventLoopGroup(threads, new DefaultThreadFactory(name, true))
        : new NioEventLoopGroup(threads, new DefaultThreadFactory(name, true));
  }

  static Class<? extends ServerChannel> serverChannel() {
    return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  static Class<? extends SocketChannel> clientChannel() {
    return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  static String name() {
    return EPOLL ? "epoll" : "nio";
  }

  /**
   * Binds an HTTP server on {@code host:port}: a connection past {@code limits.maxConnections()}
   * gets a 503 and is closed; every other one gets the idle timeout, the request read timeout,
   * the codec (with the line and header limits of {@link HttpReplies}), a
   * {@link BoundedAggregator} of {@code maxBodyBytes} and a new handler from {@code handler}, and
   * its write buffer's high water mark is {@code limits.maxQueuedResponseBytes()}.
   *
   * @param portOption the option and environment variable that set the port, named in the error
   * @return the listening channel
   * @throws IllegalStateException when the port cannot be bound; {@code boss} and {@code workers}
   *     are then shut down
   */
  static Channel bindHttp(EventLoopGroup boss, EventLoopGroup workers, String host, int port, String portOption,
      int maxBodyBytes, ServerLimits limits, ConnectionLimit connections,
      Supplier<? extends PipelinedHttpHandler> handler) {
    byte[] refusal = tooManyConnections(connections.max());
    try {
      return new ServerBootstrap()
          .group(boss, workers)
          .channel(serverChannel())
          .option(ChannelOption.SO_BACKLOG, 1024)
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
              new WriteBufferWaterMark(limits.maxQueuedResponseBytes() / 2, limits.maxQueuedResponseBytes()))
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              if (!connections.tryAdmit()) {
                ch.pipeline().addLast(new ConnectionLimit.Rejecter(refusal));
                return;
              }
              ch.closeFuture().addListener(f -> connections.release());
              // A client that half-closes after its requests still gets their answers (PipelinedHttpHandler).
              ch.config().setAllowHalfClosure(true);
              initHttp(ch.pipeline(), maxBodyBytes, limits, handler.get());
            }
          })
          .bind(new InetSocketAddress(host, port))
          .syncUninterruptibly()
          .channel();
    } catch (RuntimeException e) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IllegalStateException("cannot listen on " + host + ":" + port + " (" + portOption + "): "
          + e.getMessage(), e);
    }
  }

  /**
   * Sets up one admitted HTTP connection's pipeline: the {@link ReadGate} (so pausing the
   * connection stops its reads), timeouts, codec (decoding a request only while {@code handler}
   * takes one), aggregator, {@code handler}.
   */
  static void initHttp(ChannelPipeline pipeline, int maxBodyBytes, ServerLimits limits, PipelinedHttpHandler handler) {
    pipeline.addLast(ReadGate.INSTANCE);
    long idleMillis = limits.idleTimeout().toMillis();
    if (idleMillis > 0) {
      // Observing output: a client slowly taking a large response is not idle.
      pipeline.addLast(new IdleStateHandler(true, 0, 0, idleMillis, TimeUnit.MILLISECONDS));
    }
    RequestReadTimeout readTimeout = new RequestReadTimeout(limits.requestReadTimeout());
    pipeline.addLast(
        readTimeout.codec(new HttpDecoderConfig()
            .setMaxInitialLineLength(HttpErrors.MAX_INITIAL_LINE)
            .setMaxHeaderSize(HttpErrors.MAX_HEADER_SIZE), handler::acceptingRequests),
        new BoundedAggregator(maxBodyBytes),
        handler);
  }

  /** The raw 503 a connection past the limit gets before it is closed. */
  static byte[] tooManyConnections(int max) {
    byte[] body = Json.error("TooManyConnections", "the server has its maximum of " + max
        + " connections open (--max-connections / MAX_CONNECTIONS); retry shortly").getBytes(UTF_8);
    byte[] head = ("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: "
        + body.length + "\r\nretry-after: 1\r\nconnection: close\r\n\r\n").getBytes(UTF_8);
    byte[] all = java.util.Arrays.copyOf(head, head.length + body.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  /** Closes {@code listener}, then shuts down {@code boss} and {@code workers}, waiting a few seconds for each. */
  static void shutdown(Channel listener, EventLoopGroup boss, EventLoopGroup workers) {
    listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }
}
