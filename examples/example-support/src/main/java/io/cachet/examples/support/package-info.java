/**
 * What the example applications' Netty servers share: {@link io.cachet.examples.support.Json}
 * (JSON string literals and the {@code {"error":..,"message":..}} body every error has),
 * {@link io.cachet.examples.support.HttpErrors} (the answer to a request Netty could not decode)
 * and {@link io.cachet.examples.support.Connections} (closing a connection after its last reply
 * without resetting it). Not API: the examples' own code, shaded into their jars.
 */
@NullMarked
package io.cachet.examples.support;

import org.jspecify.annotations.NullMarked;
