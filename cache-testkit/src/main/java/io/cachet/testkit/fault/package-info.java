/** Network fault injection for integration tests: {@link io.cachet.testkit.fault.TcpRelay}. */
@NullMarked
package io.cachet.testkit.fault;

import org.jspecify.annotations.NullMarked;
