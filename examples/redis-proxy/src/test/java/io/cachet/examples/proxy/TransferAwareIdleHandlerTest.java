package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The idle timeout against a client that steadily downloads a reply larger than the socket buffers,
 * over a real loopback socket: the transfer takes several idle periods, and is traffic all along.
 */
final class TransferAwareIdleHandlerTest {

  private static final int IDLE_MILLIS = 500;
  private static final int BODY = 6 * 1024 * 1024;

  @Test
  void replyBeingTaken_isNotIdle_soItIsSentWhole() throws Exception {
    assertThat(download(() -> new TransferAwareIdleHandler(IDLE_MILLIS))).isGreaterThanOrEqualTo(BODY);
  }

  /** The control: Netty's own handler cuts the same transfer off, as the proxy's did. */
  @Test
  void nettysIdleStateHandler_cutsTheSameTransferOff() throws Exception {
    assertThat(download(() -> new IdleStateHandler(0, 0, IDLE_MILLIS, TimeUnit.MILLISECONDS))).isLessThan(BODY);
  }

  /** GETs one {@value #BODY}-byte value over HTTP, reading 64 KiB every 15 ms; returns the bytes received. */
  private static long download(Supplier<ChannelHandler> idle) throws Exception {
    FakeAsyncCache cache = new FakeAsyncCache();
    cache.values.put("big", new byte[BODY]);
    ProxyMetrics metrics = new ProxyMetrics();
    EventLoopGroup group = new NioEventLoopGroup(1);
    try {
      Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
          // A small send buffer, so the kernel takes the reply in small steps rather than in bursts
          // a whole (short) idle period apart: each step is progress the handler can see.
          .childOption(ChannelOption.SO_SNDBUF, 64 * 1024)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              HttpHandler handler = new HttpHandler(cache, new Parallelism(0), metrics, 1024);
              ch.pipeline().addLast(idle.get(), new TrackingHttpRequestDecoder(null, handler::acceptingRequests),
                  new HttpResponseEncoder(), handler);
            }
          }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      long received = 0;
      try (Socket socket = new Socket()) {
        socket.setReceiveBufferSize(64 * 1024);
        socket.connect(server.localAddress());
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write("GET /proxy?key=big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[64 * 1024];
        for (int n; received < BODY && (n = in.read(buffer)) > 0; ) {
          received += n;
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(15)); // a client on a slow link: about 4 MB/s
        }
      } finally {
        server.close().sync();
      }
      return received;
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
