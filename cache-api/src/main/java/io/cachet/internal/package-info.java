/**
 * Implementation classes shared by Cachet's own modules. Not API: anything here may change or go
 * away in any release.
 */
@NullMarked
package io.cachet.internal;

import org.jspecify.annotations.NullMarked;
