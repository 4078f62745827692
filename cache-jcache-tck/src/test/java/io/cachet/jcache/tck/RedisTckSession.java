package io.cachet.jcache.tck;

import io.cachet.testkit.redis.RedisServer;

/**
 * Starts one Redis server for the test run when the system property {@value #ENABLED} is
 * {@code true} (the {@code tck-redis} Surefire execution sets it) and points the JCache provider's
 * default Redis options at it ({@value #ADDRESS}); see ServerTckSession. The execution itself makes
 * {@code redis} the default backend and gives each cache its own key prefix
 * ({@code cachet.jcache.default.backend}, {@code cachet.jcache.default.redis.keyPrefix}).
 */
public final class RedisTckSession extends ServerTckSession<RedisServer> {

  /** The system property that turns this listener on: {@value}. */
  public static final String ENABLED = "cachet.jcache.tck.redis";

  /** The provider's default Redis address, set to the started server: {@value}. */
  public static final String ADDRESS = "cachet.jcache.default.redis.address";

  private static final Shared<RedisServer> SERVER = new Shared<>();

  /** Returns the server of this run, or null when the listener is off. */
  static RedisServer server() {
    return SERVER.get();
  }

  /** Called by the JUnit Platform launcher. */
  public RedisTckSession() {
    super(SERVER, ENABLED, ADDRESS);
  }

  @Override
  RedisServer start() {
    return RedisServer.create().start();
  }

  @Override
  String address(RedisServer server) {
    return server.uri();
  }

  @Override
  String backend() {
    return "redis";
  }
}
