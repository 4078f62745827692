package io.cachet.servers;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server processes (Redis, Kafka) this JVM started and has not stopped yet. A shutdown hook
 * kills them, so a JVM that exits without stopping them (a test run that dies early, an
 * application killed with SIGTERM) leaves no server behind; only these processes are ever
 * signalled.
 *
 * <p>Shutdown hooks run concurrently, and an application's own hook may be stopping its servers
 * in order (its clients first, then the server they talk to). So the reaper first waits up to
 * {@link #GRACE} for the registered processes to be stopped by their owners, and kills only what
 * is left. A JVM killed without running its hooks leaves them to {@link OrphanWatchdog}.
 * Thread-safe.
 */
final class ChildProcesses {

    private static final Logger LOG = LoggerFactory.getLogger(ChildProcesses.class);
    private static final Duration GRACE = Duration.ofSeconds(10);
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final Object REMOVED = new Object();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcesses::reap, "cachet-servers-reaper"));
    }

    private ChildProcesses() {}

    /** Remembers {@code process} so that it is killed if this JVM exits first. */
    static void add(Process process) {
        LIVE.add(process);
        OrphanWatchdog.watch(process);
    }

    /** Forgets {@code process}, which has exited or been stopped. */
    static void remove(Process process) {
        LIVE.remove(process);
        OrphanWatchdog.forget(process);
        synchronized (REMOVED) {
            REMOVED.notifyAll();
        }
    }

    private static void reap() {
        long deadline = System.nanoTime() + GRACE.toNanos();
        synchronized (REMOVED) {
            for (long left = GRACE.toNanos(); !LIVE.isEmpty() && left > 0; left = deadline - System.nanoTime()) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(REMOVED, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        LIVE.forEach(Process::destroyForcibly);
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
