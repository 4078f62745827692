package io.cachet.testkit.redis;

import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A Redis container behind a {@link RedisServer}, with no persistence. It starts once and is
 * removed by {@link #close()}; what only a process can do (stop, kill and restart on the same
 * port, its executable and directory) skips the calling test with a message. Thread-safe.
 */
final class ContainerRedis implements RedisInstance {
    /** The class a container needs, for the class-path check before choosing one. */
    static final String REQUIRED_CLASS = "org.testcontainers.containers.GenericContainer";
    /** The artifact that holds it. */
    static final String REQUIRED_ARTIFACT = "org.testcontainers:testcontainers";

    private static final Logger LOG = LoggerFactory.getLogger(ContainerRedis.class);
    private static final int REDIS_PORT = 6379;

    private final String image;
    private final GenericContainer<?> container;
    private final Object lock = new Object();
    private boolean started; // guarded by lock
    private boolean closed; // guarded by lock

    ContainerRedis(String image) {
        this.image = image;
        this.container = new GenericContainer<>(DockerImageName.parse(image))
                .withExposedPorts(REDIS_PORT)
                .withCommand("redis-server", "--save", "", "--appendonly", "no");
    }

    @Override
    public void start() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("Redis container " + image + " is closed");
            }
            if (started) {
                if (container.isRunning()) {
                    throw new IllegalStateException("Redis container " + image + " is already running");
                }
                throw processOnly("start() after a stop");
            }
            try {
                container.start();
            } catch (RuntimeException e) {
                throw new IllegalStateException("the Redis container " + image + " did not start", e);
            }
            started = true;
            LOG.info("Redis container {} on {}", image, address());
        }
    }

    @Override
    public void stop() {
        throw processOnly("stop()");
    }

    @Override
    public void kill() {
        throw processOnly("kill()");
    }

    @Override
    public boolean isRunning() {
        return container.isRunning();
    }

    /** Returns the Docker host; a local engine's {@code localhost} is given as {@code 127.0.0.1}. */
    @Override
    public String host() {
        String host = container.getHost();
        return "localhost".equals(host) ? "127.0.0.1" : host;
    }

    @Override
    public int port() {
        synchronized (lock) {
            if (!started) {
                throw new IllegalStateException("Redis container " + image + " has no port before its start");
            }
        }
        return container.getMappedPort(REDIS_PORT);
    }

    @Override
    public Path executable() {
        throw processOnly("executable()");
    }

    @Override
    public Path directory() {
        throw processOnly("directory()");
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        container.close();
    }

    @Override
    public String toString() {
        return "Redis container " + image + (container.isRunning() ? " on " + address() : "");
    }

    private RuntimeException processOnly(String operation) {
        return Assumptions.abort("RedisServer." + operation + " needs a redis-server process, and this server is the "
                + "container " + image + " (cachet.testkit.servers=testcontainers): tests that stop, kill or "
                + "restart the server run with cachet.testkit.servers=process only");
    }
}
