package io.cachet.testkit.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.servers.RedisBinary;
import io.cachet.testkit.internal.ServerSelection;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * A JUnit 5 extension that starts one {@link RedisServer} before a test class's tests and closes
 * it after them; {@code @Nested} classes share their enclosing class's server.
 *
 * <p>Register it in a static field, or through {@link WithRedis}:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RedisServerExtension REDIS = new RedisServerExtension();
 * @Test void get_afterSet() { REDIS.server().command("SET", "k", "v"); ... REDIS.server().uri() ... }
 * }</pre>
 *
 * <p>Test and lifecycle methods may also declare a {@link RedisServer} parameter.
 *
 * <p>The server is a {@code redis-server} process unless the system property
 * {@value io.cachet.testkit.ServerMode#PROPERTY} is {@code testcontainers}: then it is a container
 * of the image {@value io.cachet.testkit.internal.ServerSelection#REDIS_IMAGE_PROPERTY} names
 * ({@value io.cachet.testkit.internal.ServerSelection#DEFAULT_REDIS_IMAGE} by default), the binary
 * choice does not apply, and the test class is skipped when no Docker engine answers.
 */
public final class RedisServerExtension
        implements ExecutionCondition, BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private final @Nullable RedisBinary binary;
    private final ServerSelection selection;
    private volatile @Nullable RedisServer server;
    private volatile @Nullable String owner;

    /**
     * Creates an extension whose binary comes from {@link WithRedis#binary()} on the test class,
     * else {@link RedisBinary#AUTO}.
     */
    public RedisServerExtension() {
        this(null, ServerSelection.fromSystemProperties());
    }

    /**
     * Creates an extension that runs the given kind of binary.
     *
     * @param binary which executable to run
     */
    public RedisServerExtension(RedisBinary binary) {
        this(requireNonNull(binary, "binary"), ServerSelection.fromSystemProperties());
    }

    RedisServerExtension(@Nullable RedisBinary binary, ServerSelection selection) {
        this.binary = binary;
        this.selection = requireNonNull(selection, "selection");
    }

    /**
     * Returns the running server.
     *
     * @return the server this extension started
     * @throws IllegalStateException outside the test class's lifetime, or when the extension is
     *     registered in an instance field (it must be static)
     */
    public RedisServer server() {
        RedisServer current = server;
        if (current == null) {
            throw new IllegalStateException(
                    "no Redis server: register RedisServerExtension in a static field or with @WithRedis");
        }
        return current;
    }

    /**
     * Disables the test class, with the reason, in Testcontainers mode when no Docker engine
     * answers; enabled otherwise.
     */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return selection.condition("Redis", ContainerRedis.REQUIRED_CLASS, ContainerRedis.REQUIRED_ARTIFACT);
    }

    /**
     * Starts the server unless an enclosing class's run of this extension already did.
     *
     * @throws org.opentest4j.TestAbortedException in Testcontainers mode with no Docker engine:
     *     the class's tests are skipped
     */
    @Override
    public void beforeAll(ExtensionContext context) {
        if (server != null) {
            return;
        }
        RedisServer started;
        if (selection.useContainer("Redis", ContainerRedis.REQUIRED_CLASS, ContainerRedis.REQUIRED_ARTIFACT)) {
            started = RedisServer.container(selection.redisImage());
        } else {
            RedisBinary chosen = binary != null ? binary
                    : AnnotationSupport.findAnnotation(context.getRequiredTestClass(), WithRedis.class)
                            .map(WithRedis::binary)
                            .orElse(RedisBinary.AUTO);
            started = RedisServer.create(chosen);
        }
        try {
            started.start();
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
        server = started;
        owner = context.getUniqueId();
    }

    /** Closes the server when the class that started it is done. */
    @Override
    public void afterAll(ExtensionContext context) {
        RedisServer current = server;
        if (current != null && context.getUniqueId().equals(owner)) {
            server = null;
            owner = null;
            current.close();
        }
    }

    /** Supports parameters of type {@link RedisServer}. */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == RedisServer.class;
    }

    /** Resolves a {@link RedisServer} parameter to the running server. */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return server();
    }
}
