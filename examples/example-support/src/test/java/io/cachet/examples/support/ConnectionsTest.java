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
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Closing a connection after a last reply, whatever the client does. */
final class ConnectionsTest {

  @Test
  void clientThatNeverReadsTheLastReply_isClosedAfterTheLinger() throws Exception {
    EventLoopGroup group = new NioEventLoopGroup(1);
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    try {
      Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.SO_SNDBUF, 8 * 1024)
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
              accepted.complete(ctx.channel());
              // Far more than the socket buffers hold: the write cannot complete while nobody reads.
              Connections.closeGracefully(ctx.channel(), Unpooled.wrappedBuffer(new byte[16 * 1024 * 1024]));
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      try (Socket client = new Socket()) {
        client.setReceiveBufferSize(8 * 1024);
        client.connect(server.localAddress());
        Channel connection = accepted.get(10, TimeUnit.SECONDS);
        long started = System.nanoTime();
        assertThat(connection.closeFuture().await(Connections.LINGER_MILLIS + 5_000)).as("closed").isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
            .isLessThan(Connections.LINGER_MILLIS + 5_000);
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
