package io.cachet.testkit.kafka;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * A JUnit 5 extension that starts one Kafka broker before a test class's tests and closes it
 * after them; {@code @Nested} classes share their enclosing class's broker.
 *
 * <p>Register it in a static field, or through {@link WithKafka}:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
 * @Test void send() { props.put("bootstrap.servers", KAFKA.broker().bootstrapServers()); ... }
 * }</pre>
 *
 * <p>{@link #separateProcess()} runs the broker as its own JVM, for tests that kill it. Test
 * and lifecycle methods may also declare a {@link KafkaBroker} parameter, or the concrete type
 * of the broker this extension runs.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private final @Nullable Boolean separateProcess;
    private volatile @Nullable KafkaBroker broker;
    private volatile @Nullable String owner;

    /**
     * Creates an extension for an in-JVM broker, or a separate process when the test class says
     * {@link WithKafka#separateProcess() @WithKafka(separateProcess = true)}.
     */
    public KafkaBrokerExtension() {
        this(null);
    }

    private KafkaBrokerExtension(@Nullable Boolean separateProcess) {
        this.separateProcess = separateProcess;
    }

    /**
     * Creates an extension that runs the broker as a JVM of its own, a {@link KafkaBrokerProcess}.
     *
     * @return the extension
     */
    public static KafkaBrokerExtension separateProcess() {
        return new KafkaBrokerExtension(Boolean.TRUE);
    }

    /**
     * Returns the running broker.
     *
     * @return the broker this extension started
     * @throws IllegalStateException outside the test class's lifetime, or when the extension is
     *     registered in an instance field (it must be static)
     */
    public KafkaBroker broker() {
        KafkaBroker current = broker;
        if (current == null) {
            throw new IllegalStateException(
                    "no Kafka broker: register KafkaBrokerExtension in a static field or with @WithKafka");
        }
        return current;
    }

    /**
     * Returns the running broker as the process it is, for tests that kill and restart it.
     *
     * @return the broker process
     * @throws IllegalStateException when this extension runs an in-JVM broker, or no broker
     */
    public KafkaBrokerProcess process() {
        KafkaBroker current = broker();
        if (current instanceof KafkaBrokerProcess process) {
            return process;
        }
        throw new IllegalStateException("this KafkaBrokerExtension runs an in-JVM broker; use "
                + "KafkaBrokerExtension.separateProcess() or @WithKafka(separateProcess = true)");
    }

    /** Starts the broker unless an enclosing class's run of this extension already did. */
    @Override
    public void beforeAll(ExtensionContext context) {
        if (broker != null) {
            return;
        }
        if (separate(context)) {
            KafkaBrokerProcess process = KafkaBrokerProcess.create();
            try {
                process.start();
            } catch (RuntimeException e) {
                process.close();
                throw e;
            }
            broker = process;
        } else {
            broker = InJvmKafkaBroker.start();
        }
        owner = context.getUniqueId();
    }

    /** Closes the broker when the class that started it is done. */
    @Override
    public void afterAll(ExtensionContext context) {
        KafkaBroker current = broker;
        if (current != null && context.getUniqueId().equals(owner)) {
            broker = null;
            owner = null;
            current.close();
        }
    }

    /** Supports {@link KafkaBroker} parameters and the concrete broker type this extension runs. */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        if (type != KafkaBroker.class && type != KafkaBrokerProcess.class && type != InJvmKafkaBroker.class) {
            return false;
        }
        KafkaBroker current = broker;
        if (current != null) {
            return type.isInstance(current);
        }
        return type == KafkaBroker.class
                || type == (separate(extensionContext) ? KafkaBrokerProcess.class : InJvmKafkaBroker.class);
    }

    /** Resolves a broker parameter to the running broker. */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return broker();
    }

    private boolean separate(ExtensionContext context) {
        if (separateProcess != null) {
            return separateProcess;
        }
        return context.getTestClass()
                .flatMap(type -> AnnotationSupport.findAnnotation(type, WithKafka.class))
                .map(WithKafka::separateProcess)
                .orElse(false);
    }
}
