/** A runnable tour of Cachet's local backend. */
@NullMarked
package io.cachet.examples.quickstart;

import org.jspecify.annotations.NullMarked;
