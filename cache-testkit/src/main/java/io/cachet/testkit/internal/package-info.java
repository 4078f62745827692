/**
 * Shared by the test kit's packages; not API: it may change in any release.
 */
@NullMarked
package io.cachet.testkit.internal;

import org.jspecify.annotations.NullMarked;
