package io.cachet.examples.cluster;

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
import io.netty.util.concurrent.DefaultThreadFactory;

/** Epoll where available (Linux x86_64, aarch64), NIO elsewhere. */
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
}
