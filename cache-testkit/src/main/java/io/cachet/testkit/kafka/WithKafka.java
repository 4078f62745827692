package io.cachet.testkit.kafka;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a Kafka broker for the annotated test class, tagged {@code kafka}; test and lifecycle
 * methods receive it as a {@link KafkaBroker} parameter (or {@link InJvmKafkaBroker} /
 * {@link KafkaBrokerProcess}, matching {@link #separateProcess()}).
 *
 * <pre>{@code
 * @WithKafka
 * final class MyKafkaIT {
 *     @Test void send(KafkaBroker kafka) { props.put("bootstrap.servers", kafka.bootstrapServers()); ... }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@ExtendWith(KafkaBrokerExtension.class)
@Tag("kafka")
public @interface WithKafka {
    /**
     * Whether the broker runs as a JVM of its own ({@link KafkaBrokerProcess}) rather than inside
     * the test JVM ({@link InJvmKafkaBroker}).
     *
     * @return {@code true} for a separate process; {@code false} by default
     */
    boolean separateProcess() default false;
}
