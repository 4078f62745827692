package io.cachet.servers;

/**
 * Starts a Redis server, prints its pid and waits to be killed: a JVM that dies without its
 * shutdown hooks, for {@code RedisProcessIT}.
 */
public final class OrphanProbe {

    private OrphanProbe() {}

    public static void main(String[] args) throws InterruptedException {
        RedisProcess redis = RedisProcess.create().start();
        System.out.println("redis-pid " + redis.pid());
        System.out.flush();
        Thread.currentThread().join(); // until killed
    }
}
