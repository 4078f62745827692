package io.cachet.testkit.redis;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Redis processes this JVM started and has not stopped yet; a shutdown hook kills them so
 * a test run that dies early leaves no server behind. Only these processes are ever signalled.
 */
final class ChildProcesses {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(
                () -> LIVE.forEach(Process::destroyForcibly), "cachet-redis-reaper"));
    }

    private ChildProcesses() {}

    static void add(Process process) {
        LIVE.add(process);
    }

    static void remove(Process process) {
        LIVE.remove(process);
    }
}
