/** An application that uses Cachet from the module path. */
@NullMarked
package io.cachet.examples.modular;

import org.jspecify.annotations.NullMarked;
