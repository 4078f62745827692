/**
 * Test support for Cachet backends and applications: the backend contract suite
 * ({@link io.cachet.testkit.AbstractCacheContractTest}), the exact-LRU scenarios a caching proxy
 * relies on ({@link io.cachet.testkit.AbstractLruScenarioTest}), and JUnit 5 extensions that start a
 * real Redis server or Kafka broker: local processes by default, or containers with
 * {@value io.cachet.testkit.ServerMode#PROPERTY}{@code =testcontainers} ({@link io.cachet.testkit.ServerMode}).
 */
@NullMarked
package io.cachet.testkit;

import org.jspecify.annotations.NullMarked;
