package io.cachet.testkit.redis;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes; for setting up topologies. */
final class Await {
    private static final long PAUSE_MILLIS = 50;

    private Await() {}

    /**
     * Waits until {@code condition} holds; exceptions it throws count as "not yet".
     *
     * @throws IllegalStateException naming {@code what} and the last state when time runs out
     */
    static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) {
                String described;
                try {
                    described = state.get();
                } catch (RuntimeException e) {
                    described = "unknown (" + e + ")";
                }
                IllegalStateException failure =
                        new IllegalStateException(what + " did not happen within " + timeout + "; state: " + described);
                if (last != null) {
                    failure.addSuppressed(last);
                }
                throw failure;
            }
            try {
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting until " + what, e);
            }
        }
    }
}
