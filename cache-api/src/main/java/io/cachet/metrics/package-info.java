/** Micrometer metrics for Cachet caches; needs {@code io.micrometer:micrometer-core} at run time. */
@NullMarked
package io.cachet.metrics;

import org.jspecify.annotations.NullMarked;
