/**
 * JMH benchmarks of Cachet against baselines measured in the same run, timed main classes for the
 * replicated backend, and helpers to read their results. Never deployed; see {@code
 * benchmarks/README.md} for the commands.
 */
@NullMarked
package io.cachet.benchmarks;

import org.jspecify.annotations.NullMarked;
