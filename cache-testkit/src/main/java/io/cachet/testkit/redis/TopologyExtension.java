package io.cachet.testkit.redis;

import io.cachet.testkit.ServerMode;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one multi-process Redis setup before a test class's tests and closes it after them;
 * {@code @Nested} classes share their enclosing class's setup. Test and lifecycle methods may
 * declare a parameter of the setup's type.
 *
 * <p>These setups always run processes, whatever {@value ServerMode#PROPERTY} says: their nodes
 * announce addresses to each other and to clients, and their tests stop and kill nodes.
 */
abstract class TopologyExtension<T extends AutoCloseable> implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private static final Logger LOG = LoggerFactory.getLogger(TopologyExtension.class);

    private final Class<T> type;
    private final Supplier<T> starter;
    private volatile @Nullable T topology;
    private volatile @Nullable String owner;

    TopologyExtension(Class<T> type, Supplier<T> starter) {
        this.type = type;
        this.starter = starter;
    }

    /**
     * Returns the running setup.
     *
     * @return the setup this extension started
     * @throws IllegalStateException outside the test class's lifetime, or when the extension is
     *     registered in an instance field (it must be static)
     */
    final T get() {
        T current = topology;
        if (current == null) {
            throw new IllegalStateException("no " + type.getSimpleName() + ": register "
                    + getClass().getSimpleName() + " in a static field");
        }
        return current;
    }

    /** Starts the setup unless an enclosing class's run of this extension already did. */
    @Override
    public final void beforeAll(ExtensionContext context) {
        if (topology != null) {
            return;
        }
        if (ServerMode.fromSystemProperty() == ServerMode.TESTCONTAINERS) {
            LOG.info("{}: {} runs redis-server processes in every {} mode; containers cover standalone "
                    + "Redis and a single Kafka broker", context.getDisplayName(), type.getSimpleName(), ServerMode.PROPERTY);
        }
        topology = starter.get();
        owner = context.getUniqueId();
    }

    /** Closes the setup when the class that started it is done. */
    @Override
    public final void afterAll(ExtensionContext context) throws Exception {
        T current = topology;
        if (current != null && context.getUniqueId().equals(owner)) {
            topology = null;
            owner = null;
            current.close();
        }
    }

    /** Supports parameters of the setup's type. */
    @Override
    public final boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == type;
    }

    /** Resolves a parameter of the setup's type to the running setup. */
    @Override
    public final Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return get();
    }
}
