package io.cachet.testkit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/** Runs a test class on the Jupiter engine and tells how the class ended, for the extensions' own tests. */
public final class EngineRuns {
    private EngineRuns() {
    }

    /**
     * Runs the class, which must start none of its tests, and returns why it was skipped.
     *
     * @param testClass the class to run
     * @return the exception that skipped the class
     */
    public static Throwable skipReason(Class<?> testClass) {
        return classEnd(testClass, true);
    }

    /**
     * Runs the class, which must start none of its tests, and returns why it failed.
     *
     * @param testClass the class to run
     * @return the exception that failed the class
     */
    public static Throwable failureReason(Class<?> testClass) {
        return classEnd(testClass, false);
    }

    private static Throwable classEnd(Class<?> testClass, boolean skipped) {
        EngineExecutionResults results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute();
        results.testEvents().assertStatistics(stats -> stats.started(0));
        Event end = (skipped ? results.containerEvents().aborted() : results.containerEvents().failed())
                .stream().findFirst()
                .orElseThrow(() -> new AssertionError(testClass.getSimpleName() + " was not "
                        + (skipped ? "skipped: " : "failed: ") + results.allEvents().list()));
        return end.getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow();
    }
}
