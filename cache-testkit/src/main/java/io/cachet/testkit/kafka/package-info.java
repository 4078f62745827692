/**
 * Real Kafka brokers for tests, each a single KRaft node in combined mode (broker and controller)
 * on 127.0.0.1 and free ports: {@link io.cachet.testkit.kafka.InJvmKafkaBroker} inside the test
 * JVM for functional tests, {@link io.cachet.testkit.kafka.KafkaBrokerProcess} as a JVM of its
 * own that a fault test can kill and restart, and {@link io.cachet.testkit.kafka.KafkaBrokerExtension}
 * (or {@link io.cachet.testkit.kafka.WithKafka}) to run either per test class.
 *
 * <p>The Kafka dependencies of {@code cache-testkit} are optional: a module that uses this
 * package adds {@code org.apache.kafka:kafka-test-common-runtime} (test scope), which brings the
 * broker ({@code kafka_2.13}) and {@code kafka-clients}.
 *
 * <p>With {@value io.cachet.testkit.ServerMode#PROPERTY}{@code =testcontainers}, the extension
 * runs an Apache Kafka container in place of the in-JVM broker (a separate process stays one); that
 * needs {@code org.testcontainers:testcontainers-kafka} and a Docker engine.
 */
@NullMarked
package io.cachet.testkit.kafka;

import org.jspecify.annotations.NullMarked;
