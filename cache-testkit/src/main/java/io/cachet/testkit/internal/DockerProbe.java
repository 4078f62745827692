package io.cachet.testkit.internal;

import java.time.Duration;

/** Tells whether a Docker engine answers; a seam so that the choice of servers is testable without Docker. */
@FunctionalInterface
public interface DockerProbe {
    /**
     * Tells whether a Docker engine answers within the given time.
     *
     * @param timeout how long to wait for an answer
     * @return {@code true} when an engine answered; {@code false} when none did, in time or at all
     */
    boolean isDockerAvailable(Duration timeout);

    /**
     * Returns the probe that asks Testcontainers, which must be on the class path. Its answer is
     * kept for the rest of the JVM's life, so a test run probes once.
     *
     * @return the Testcontainers probe
     */
    static DockerProbe testcontainers() {
        return TestcontainersDockerProbe.INSTANCE;
    }
}
