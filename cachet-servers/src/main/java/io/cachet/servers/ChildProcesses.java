package io.cachet.servers;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server processes (Redis, Kafka) this JVM started and has not stopped yet. A shutdown hook
 * kills them, so a JVM that dies early (a test run, an example killed with SIGTERM) leaves no
 * server behind; only these processes are ever signalled. Thread-safe.
 */
final class ChildProcesses {

    private static final Logger LOG = LoggerFactory.getLogger(ChildProcesses.class);
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(
                () -> LIVE.forEach(Process::destroyForcibly), "cachet-servers-reaper"));
    }

    private ChildProcesses() {}

    /** Remembers {@code process} so that it is killed if this JVM exits first. */
    static void add(Process process) {
        LIVE.add(process);
    }

    /** Forgets {@code process}, which has exited or been stopped. */
    static void remove(Process process) {
        LIVE.remove(process);
    }

    /**
     * Stops {@code process} (SIGTERM, or SIGKILL when {@code forcibly}), kills it if it has not
     * exited within {@code timeout}, waits for it, and forgets it. {@code what} names it in logs.
     */
    static void stop(Process process, boolean forcibly, Duration timeout, String what) {
        try {
            if (forcibly) {
                process.destroyForcibly();
            } else {
                process.destroy();
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{} (pid {}) did not stop within {}; killing it", what, process.pid(), timeout);
                process.destroyForcibly();
                process.waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping " + what, e);
        } finally {
            remove(process);
        }
    }
}
