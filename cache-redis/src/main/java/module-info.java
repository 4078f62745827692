/**
 * Cachet's {@code redis} backend: read-through Redis with a coherent near cache.
 *
 * <p>The jar carries Redisson relocated to {@code io.cachet.redis.internal.redisson} (not
 * exported), so Redisson is a compile-time module only ({@code requires static}); at run time this
 * module reads what Redisson's classes need.
 */
module io.cachet.redis {
  requires transitive io.cachet;
  requires io.cachet.local;
  requires static redisson;
  requires org.slf4j;
  // Redisson's run-time dependencies.
  requires io.netty.common;
  requires io.netty.buffer;
  requires io.netty.codec;
  requires io.netty.transport;
  requires io.netty.transport.unix.common;
  requires io.netty.resolver;
  requires io.netty.resolver.dns;
  requires io.netty.handler;
  requires reactor.core;
  requires org.reactivestreams;
  requires io.reactivex.rxjava3;
  requires com.esotericsoftware.kryo;
  requires org.objenesis;
  requires com.fasterxml.jackson.annotation;
  requires com.fasterxml.jackson.core;
  requires com.fasterxml.jackson.databind;
  requires com.fasterxml.jackson.dataformat.yaml;
  requires com.fasterxml.jackson.datatype.jsr310;
  requires net.bytebuddy;
  requires jodd.util;

  exports io.cachet.redis;

  provides io.cachet.spi.CacheBackendProvider with
      io.cachet.redis.RedisCacheProvider;
}
