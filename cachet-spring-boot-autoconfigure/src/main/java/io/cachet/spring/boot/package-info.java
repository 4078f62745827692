/**
 * Spring Boot auto-configuration for Cachet: caches declared under {@code cachet.caches.*}, a
 * Spring {@code CacheManager} over them, Micrometer meters and an actuator health indicator.
 */
@NullMarked
package io.cachet.spring.boot;

import org.jspecify.annotations.NullMarked;
