package io.cachet.testkit.redis;

import java.nio.file.Path;

/** What runs behind a {@link RedisServer}: a process or a container. Thread-safe. */
interface RedisInstance extends AutoCloseable {
    void start();

    void stop();

    void kill();

    boolean isRunning();

    String host();

    int port();

    Path executable();

    Path directory();

    @Override
    void close();

    default String address() {
        return host() + ":" + port();
    }

    default String uri() {
        return "redis://" + address();
    }
}
