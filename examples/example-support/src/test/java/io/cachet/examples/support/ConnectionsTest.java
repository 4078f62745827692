package io.cachet.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** Closing a connection after a last reply, whatever the client does. */
final class ConnectionsTest {

  @Test
  void clientThatNeverReadsTheLastReply_isClosedAfterTheLinger() throws Exception {
    // Far more than the socket buffers hold: the write cannot complete while nobody reads.
    try (Server server = Server.closingWith(16 * 1024 * 1024); Socket client = server.connect()) {
      Channel connection = server.accepted.get(10, TimeUnit.SECONDS);
      assertThat(connection.closeFuture().await(Connections.LINGER_MILLIS + 5_000)).as("closed").isTrue();
    }
  }

  @Test
  void slowClientTakingTheLastReplyLongerThanTheLinger_getsAllOfIt() throws Exception {
    int size = 3 * 512 * 1024; // read 8 KB at a time, 20 ms apart: about 4 s, twice the linger
    try (Server server = Server.closingWith(size); Socket client = server.connect()) {
      InputStream in = client.getInputStream();
      byte[] chunk = new byte[64 * 1024];
      long received = 0;
      long started = System.nanoTime();
      for (int n; (n = in.read(chunk)) >= 0; ) {
        received += n;
        Thread.sleep(20); // a slow reader: 8 KB reads, several seconds for the whole reply, past the linger
      }
      assertThat(received).as("the whole reply, then end of stream").isEqualTo(size);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isGreaterThan(Connections.LINGER_MILLIS);
    }
  }

  @Test
  void closeWhenWritten_clientThatReads_getsEverythingThenEndOfStream() throws Exception {
    int size = 256 * 1024;
    try (Server server = Server.closingWhenWritten(size); Socket client = server.connect()) {
      client.setSoTimeout(10_000);
      assertThat(client.getInputStream().readAllBytes()).hasSize(size);
    }
  }

  /**
   * A server whose replies may be large gives a closing connection's client longer than the linger
   * to take what is queued: a client that pauses past the linger, then reads, gets all of it.
   */
  @Test
  void closingWithALongerStall_clientPausingPastTheLinger_getsEverything() throws Exception {
    int size = 1024 * 1024;
    // The first check may see the socket take its first bytes: two lingers without any is a stall.
    Duration stall = Duration.ofMillis(3 * Connections.LINGER_MILLIS + 2_000);
    try (Server graceful = new Server(size, false, stall); Socket first = graceful.connect();
        Server whenWritten = new Server(size, true, stall); Socket second = whenWritten.connect()) {
      Thread.sleep(2 * Connections.LINGER_MILLIS + 500); // both read nothing, past two lingers
      for (Socket client : new Socket[] {first, second}) {
        client.setSoTimeout(10_000);
        assertThat(client.getInputStream().readAllBytes()).hasSize(size);
      }
    }
  }

  /** ... and one that never reads is closed once it has taken nothing for that stall. */
  @Test
  void closeWhenWritten_clientThatNeverReads_isClosedAfterTheStall() throws Exception {
    try (Server server = new Server(16 * 1024 * 1024, true, Duration.ofMillis(200)); Socket client = server.connect()) {
      Channel connection = server.accepted.get(10, TimeUnit.SECONDS);
      assertThat(connection.closeFuture().await(5_000)).as("closed").isTrue();
    }
  }

  /**
   * A server that answers each connection with one reply of {@code size} bytes and closes it
   * gracefully, or when written.
   */
  private static final class Server implements AutoCloseable {
    final CompletableFuture<Channel> accepted = new CompletableFuture<>();
    final EventLoopGroup group = new NioEventLoopGroup(1);
    final Channel channel;

    private Server(int size) throws InterruptedException {
      this(size, false);
    }

    private Server(int size, boolean whenWritten) throws InterruptedException {
      this(size, whenWritten, null);
    }

    /** @param stall how long the client may take nothing while the reply is written; null for the default */
    private Server(int size, boolean whenWritten, @Nullable Duration stall) throws InterruptedException {
      channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.SO_SNDBUF, 8 * 1024)
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
              accepted.complete(ctx.channel());
              if (whenWritten) {
                ctx.write(Unpooled.wrappedBuffer(new byte[size]));
                if (stall == null) {
                  Connections.closeWhenWritten(ctx.channel());
                } else {
                  Connections.closeWhenWritten(ctx.channel(), stall);
                }
              } else if (stall == null) {
                Connections.closeGracefully(ctx.channel(), Unpooled.wrappedBuffer(new byte[size]));
              } else {
                Connections.closeGracefully(ctx.channel(), Unpooled.wrappedBuffer(new byte[size]), stall);
              }
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    static Server closingWith(int size) throws InterruptedException {
      return new Server(size);
    }

    static Server closingWhenWritten(int size) throws InterruptedException {
      return new Server(size, true);
    }

    Socket connect() throws java.io.IOException {
      Socket client = new Socket();
      client.setReceiveBufferSize(8 * 1024);
      client.connect(channel.localAddress());
      return client;
    }

    @Override
    public void close() throws InterruptedException {
      channel.close().sync();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
