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
     * Runs the class, which must be skipped as a whole, and returns the reason given.
     *
     * @param testClass the class to run
     * @return the reason the class was skipped
     */
    public static String skipReason(Class<?> testClass) {
        EngineExecutionResults results = run(testClass);
        Event skipped = results.containerEvents().skipped().stream().findFirst()
                .orElseThrow(() -> new AssertionError(testClass.getSimpleName() + " was not skipped: "
                        + results.allEvents().list()));
        return skipped.getRequiredPayload(String.class);
    }

    /**
     * Runs the class, which must start none of its tests, and returns why it failed.
     *
     * @param testClass the class to run
     * @return the exception that failed the class
     */
    public static Throwable failureReason(Class<?> testClass) {
        EngineExecutionResults results = run(testClass);
        results.testEvents().assertStatistics(stats -> stats.started(0));
        Event failed = results.containerEvents().failed().stream().findFirst()
                .orElseThrow(() -> new AssertionError(testClass.getSimpleName() + " did not fail: "
                        + results.allEvents().list()));
        return failed.getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow();
    }

    private static EngineExecutionResults run(Class<?> testClass) {
        EngineExecutionResults results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute();
        results.testEvents().assertStatistics(stats -> stats.started(0));
        return results;
    }
}
