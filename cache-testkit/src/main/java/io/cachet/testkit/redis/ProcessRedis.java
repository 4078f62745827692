package io.cachet.testkit.redis;

import io.cachet.servers.RedisProcess;
import java.nio.file.Path;

/** A {@code redis-server} process on 127.0.0.1 behind a {@link RedisServer}. Thread-safe. */
final class ProcessRedis implements RedisInstance {
    private final RedisProcess process;

    ProcessRedis(RedisProcess process) {
        this.process = process;
    }

    @Override
    public void start() {
        process.start();
    }

    @Override
    public void stop() {
        process.stop();
    }

    @Override
    public void kill() {
        process.kill();
    }

    @Override
    public boolean isRunning() {
        return process.isRunning();
    }

    @Override
    public String host() {
        return process.host();
    }

    @Override
    public int port() {
        return process.port();
    }

    @Override
    public String address() {
        return process.address();
    }

    @Override
    public String uri() {
        return process.uri();
    }

    @Override
    public Path executable() {
        return process.executable();
    }

    @Override
    public Path directory() {
        return process.directory();
    }

    @Override
    public void close() {
        process.close();
    }

    @Override
    public String toString() {
        return process.toString();
    }
}
