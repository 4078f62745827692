package io.cachet.servers;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The one child process a launcher runs at a time: started with its output appended to a log
 * file, registered with {@link ChildProcesses} while it may be alive, and forgotten once stopped
 * or found dead. Thread-safe; the launcher serialises starts and stops.
 */
final class ProcessSlot {

    private final String what;
    private final Duration stopTimeout;
    private volatile @Nullable Process process;

    /**
     * @param what names the server in logs and errors, e.g. {@code "Redis"}
     * @param stopTimeout how long a stop waits before it kills the process
     */
    ProcessSlot(String what, Duration stopTimeout) {
        this.what = what;
        this.stopTimeout = stopTimeout;
    }

    /** Starts {@code command} in {@code directory}, its output appended to {@code logFile}. */
    Process start(List<String> command, Path directory, Path logFile) throws IOException {
        Process started = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        ChildProcesses.add(started);
        process = started;
        return started;
    }

    boolean isRunning() {
        Process current = process;
        return current != null && current.isAlive();
    }

    /** Returns the running process's id; throws {@link IllegalStateException} when none runs. */
    long pid() {
        Process current = process;
        if (current == null || !current.isAlive()) {
            throw new IllegalStateException(what + " is not running");
        }
        return current.pid();
    }

    /**
     * Stops the current process (SIGTERM, or SIGKILL when {@code forcibly}) and waits for it.
     *
     * @return its exit code, or {@code null} when there was no process
     */
    @Nullable Integer stop(boolean forcibly) {
        Process current = process;
        if (current == null) {
            return null;
        }
        destroy(current, forcibly);
        return current.exitValue();
    }

    /** Stops {@code started}, e.g. after a failed start, and forgets it. */
    void destroy(Process started, boolean forcibly) {
        try {
            ChildProcesses.stop(started, forcibly, stopTimeout, what);
        } finally {
            forget(started);
        }
    }

    /** Forgets the current process if it has exited by itself (a crash, a {@code SHUTDOWN}). */
    void forgetExited() {
        Process current = process;
        if (current != null && !current.isAlive()) {
            forget(current);
        }
    }

    /** Forgets {@code exited}, which is no longer alive. */
    void forget(Process exited) {
        ChildProcesses.remove(exited);
        if (process == exited) {
            process = null;
        }
    }
}
