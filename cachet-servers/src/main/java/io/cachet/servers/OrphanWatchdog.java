package io.cachet.servers;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills this JVM's server processes after the JVM died without running its shutdown hooks
 * (SIGKILL, the kernel's OOM killer), which {@link ChildProcesses} cannot. On the first server a
 * JVM starts, a small shell process is started beside it: it polls the JVM once a second and,
 * once the JVM is gone (its pid no longer names a process started when it was), sends SIGKILL to
 * every server still listed in its directory, then
 * deletes the directory. A server is listed as its pid and its start time (from
 * {@code /proc/<pid>/stat}), and only a process with both is killed, never one that reused the
 * pid. Linux only (it needs {@code /proc}); elsewhere it does nothing. Thread-safe.
 */
final class OrphanWatchdog {

    private static final Logger LOG = LoggerFactory.getLogger(OrphanWatchdog.class);

    /**
     * Waits for the JVM (argument 2, started at argument 3) to go, then kills the listed servers of
     * the directory (argument 1). A process is identified by its pid and start time both.
     */
    private static final String SCRIPT = String.join("\n",
            "dir=$1; jvm=$2; jvmstart=$3",
            "started() { s=$(cat \"/proc/$1/stat\" 2>/dev/null) || return 1; set -- ${s##*) }; shift 19; echo \"$1\"; }",
            "while [ \"$(started \"$jvm\")\" = \"$jvmstart\" ]; do sleep 1; done",
            "for f in \"$dir\"/*.pid; do",
            "  [ -f \"$f\" ] || continue",
            "  read -r pid start < \"$f\"",
            "  [ \"$(started \"$pid\")\" = \"$start\" ] && kill -9 \"$pid\" 2>/dev/null",
            "done",
            "rm -rf \"$dir\"");

    private static @Nullable Path directory; // guarded by the class
    private static boolean unavailable; // guarded by the class

    private OrphanWatchdog() {}

    /** Lists {@code process} for the watchdog, starting the watchdog with the first one. */
    static synchronized void watch(Process process) {
        Path dir = directory();
        String start = startTime(process.pid());
        if (dir == null || start == null) {
            return;
        }
        try {
            Files.writeString(dir.resolve(process.pid() + ".pid"), process.pid() + " " + start + "\n", UTF_8);
        } catch (IOException e) {
            LOG.debug("Cannot list pid {} for the orphan watchdog", process.pid(), e);
        }
    }

    /** Takes {@code process} off the list: it was stopped, or has exited. */
    static synchronized void forget(Process process) {
        if (directory != null) {
            try {
                Files.deleteIfExists(directory.resolve(process.pid() + ".pid"));
            } catch (IOException e) {
                LOG.debug("Cannot unlist pid {} for the orphan watchdog", process.pid(), e);
            }
        }
    }

    private static @Nullable Path directory() {
        if (directory != null || unavailable) {
            return directory;
        }
        String jvmStart = startTime(ProcessHandle.current().pid());
        if (jvmStart == null) {
            unavailable = true; // no /proc: not Linux
            return null;
        }
        try {
            Path dir = Files.createTempDirectory("cachet-servers-watch-");
            new ProcessBuilder("sh", "-c", SCRIPT, "cachet-servers-watchdog", dir.toString(),
                    Long.toString(ProcessHandle.current().pid()), jvmStart)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            directory = dir;
        } catch (IOException e) {
            LOG.warn("Cannot start the watchdog that kills this JVM's servers if it dies: {}", e.toString());
            unavailable = true;
        }
        return directory;
    }

    /** Field 22 of {@code /proc/<pid>/stat} (start time in clock ticks since boot), or null. */
    static @Nullable String startTime(long pid) {
        try {
            String stat; // read by line: procfs reports a size that stops a whole-file read short
            try (java.io.BufferedReader reader = Files.newBufferedReader(Path.of("/proc", Long.toString(pid), "stat"), UTF_8)) {
                stat = reader.readLine();
            }
            // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return fields.length > 19 ? fields[19] : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
