package io.cachet.testkit.internal;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * Asks {@link DockerClientFactory} once, on a daemon thread of its own, so that an engine that
 * never answers costs one timeout, not a hung test run; every later call gets the same answer
 * (after a timeout: {@code false}). Thread-safe.
 */
final class TestcontainersDockerProbe implements DockerProbe {
    static final TestcontainersDockerProbe INSTANCE = new TestcontainersDockerProbe();

    private static final Logger LOG = LoggerFactory.getLogger(TestcontainersDockerProbe.class);

    private final AtomicReference<@Nullable FutureTask<Boolean>> probe = new AtomicReference<>();
    private volatile boolean timedOut;

    private TestcontainersDockerProbe() {
    }

    @Override
    public boolean isDockerAvailable(Duration timeout) {
        if (timedOut) {
            return false;
        }
        FutureTask<Boolean> task = probe.get();
        if (task == null) {
            FutureTask<Boolean> created = new FutureTask<>(() -> DockerClientFactory.instance().isDockerAvailable());
            if (probe.compareAndSet(null, created)) {
                Thread thread = new Thread(created, "cachet-docker-probe");
                thread.setDaemon(true);
                thread.start();
            }
            task = probe.get();
        }
        try {
            boolean available = task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            LOG.debug("Docker engine {}", available ? "found" : "not found");
            return available;
        } catch (TimeoutException e) {
            timedOut = true;
            LOG.warn("no Docker engine answered within {}", timeout);
            return false;
        } catch (ExecutionException e) {
            LOG.warn("probing for a Docker engine failed", e.getCause());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing for a Docker engine", e);
        }
    }
}
