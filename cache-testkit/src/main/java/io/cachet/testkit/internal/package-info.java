/**
 * Implementation classes shared by the test kit's server extensions. Not API: anything here may
 * change or go away in any release.
 */
@NullMarked
package io.cachet.testkit.internal;

import org.jspecify.annotations.NullMarked;
