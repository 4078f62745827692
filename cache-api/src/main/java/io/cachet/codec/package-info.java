/** Codecs that turn keys and values into bytes for remote backends, and back. */
@NullMarked
package io.cachet.codec;

import org.jspecify.annotations.NullMarked;
