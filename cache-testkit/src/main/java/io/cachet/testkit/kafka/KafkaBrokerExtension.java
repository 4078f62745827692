package io.cachet.testkit.kafka;

import static java.util.Objects.requireNonNull;

import io.cachet.testkit.ServerMode;
import io.cachet.testkit.internal.ServerSelection;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>When the system property {@value io.cachet.testkit.ServerMode#PROPERTY} is
 * {@code testcontainers}, the in-JVM broker is replaced by a Kafka container of the image
 * {@value io.cachet.testkit.internal.ServerSelection#KAFKA_IMAGE_PROPERTY} names
 * ({@value io.cachet.testkit.internal.ServerSelection#DEFAULT_KAFKA_IMAGE} by default), resolved
 * as a {@link KafkaBroker} parameter; the test class is skipped when no Docker engine answers. A
 * separate-process broker stays a process in every mode: the tests that ask for one kill it.
 */
public final class KafkaBrokerExtension
        implements ExecutionCondition, BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerExtension.class);

    private final @Nullable Boolean separateProcess;
    private final ServerSelection selection;
    private volatile @Nullable KafkaBroker broker;
    private volatile @Nullable String owner;

    /**
     * Creates an extension for an in-JVM broker, or a separate process when the test class says
     * {@link WithKafka#separateProcess() @WithKafka(separateProcess = true)}.
     */
    public KafkaBrokerExtension() {
        this(null, ServerSelection.fromSystemProperties());
    }

    KafkaBrokerExtension(@Nullable Boolean separateProcess, ServerSelection selection) {
        this.separateProcess = separateProcess;
        this.selection = requireNonNull(selection, "selection");
    }

    /**
     * Creates an extension that runs the broker as a JVM of its own, a {@link KafkaBrokerProcess}.
     *
     * @return the extension
     */
    public static KafkaBrokerExtension separateProcess() {
        return new KafkaBrokerExtension(Boolean.TRUE, ServerSelection.fromSystemProperties());
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
     * @throws IllegalStateException when this extension runs an in-JVM broker or a container, or
     *     no broker
     */
    public KafkaBrokerProcess process() {
        KafkaBroker current = broker();
        if (current instanceof KafkaBrokerProcess process) {
            return process;
        }
        throw new IllegalStateException("this KafkaBrokerExtension runs " + current + ", not a process; use "
                + "KafkaBrokerExtension.separateProcess() or @WithKafka(separateProcess = true)");
    }

    /**
     * Disables the test class, with the reason, in Testcontainers mode when no Docker engine
     * answers, unless the broker is a separate process; enabled otherwise.
     */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (separate(context)) {
            return ConditionEvaluationResult.enabled("the separate-process broker runs as a process");
        }
        return selection.condition("a Kafka broker", ContainerKafkaBroker.REQUIRED_CLASS,
                ContainerKafkaBroker.REQUIRED_ARTIFACT);
    }

    /**
     * Starts the broker unless an enclosing class's run of this extension already did.
     *
     * @throws org.opentest4j.TestAbortedException in Testcontainers mode with no Docker engine
     *     (except for a separate-process broker): the class's tests are skipped
     */
    @Override
    public void beforeAll(ExtensionContext context) {
        if (broker != null) {
            return;
        }
        if (separate(context)) {
            if (selection.mode() == ServerMode.TESTCONTAINERS) {
                LOG.info("{}: the separate-process Kafka broker runs as a process in every {} mode",
                        context.getDisplayName(), ServerMode.PROPERTY);
            }
            KafkaBrokerProcess process = KafkaBrokerProcess.create();
            try {
                process.start();
            } catch (RuntimeException e) {
                process.close();
                throw e;
            }
            broker = process;
        } else if (selection.useContainer("a Kafka broker", ContainerKafkaBroker.REQUIRED_CLASS,
                ContainerKafkaBroker.REQUIRED_ARTIFACT)) {
            broker = ContainerKafkaBroker.start(selection.kafkaImage());
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

    /**
     * Supports {@link KafkaBroker} parameters and the concrete broker type this extension runs; in
     * Testcontainers mode also {@link InJvmKafkaBroker}, whose resolution skips the test.
     */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        if (type != KafkaBroker.class && type != KafkaBrokerProcess.class && type != InJvmKafkaBroker.class) {
            return false;
        }
        if (type == KafkaBroker.class) {
            return true;
        }
        KafkaBroker current = broker;
        Class<?> runs = current != null ? current.getClass() : expectedType(extensionContext);
        return type.isAssignableFrom(runs) || (type == InJvmKafkaBroker.class && runs == ContainerKafkaBroker.class);
    }

    /**
     * Resolves a broker parameter to the running broker.
     *
     * @throws org.opentest4j.TestAbortedException for an {@link InJvmKafkaBroker} parameter when
     *     the broker is a container: the test is skipped
     */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        KafkaBroker current = broker();
        Class<?> type = parameterContext.getParameter().getType();
        if (!type.isInstance(current)) {
            Assumptions.abort(parameterContext.getDeclaringExecutable().getName() + " takes an InJvmKafkaBroker, and "
                    + ServerMode.PROPERTY + "=" + ServerMode.TESTCONTAINERS.value() + " runs " + current
                    + "; declare a KafkaBroker parameter to run in either mode");
        }
        return current;
    }

    private Class<?> expectedType(ExtensionContext context) {
        if (separate(context)) {
            return KafkaBrokerProcess.class;
        }
        return selection.mode() == ServerMode.TESTCONTAINERS ? ContainerKafkaBroker.class : InJvmKafkaBroker.class;
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
