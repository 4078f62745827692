package io.cachet.servers;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import redis.embedded.core.ExecutableProvider;

/**
 * Which {@code redis-server} executable a {@link RedisProcess} runs.
 *
 * <p>{@link #AUTO} honours the system property {@value #PROPERTY}; the other constants ignore it.
 */
public enum RedisBinary {
    /**
     * The system property {@value #PROPERTY} when set ({@code path}, {@code embedded},
     * {@code auto} or the path of an executable), otherwise {@link #PATH} when a
     * {@code redis-server} is on the {@code PATH}, otherwise {@link #EMBEDDED}.
     */
    AUTO,
    /** The first executable {@code redis-server} on the {@code PATH}; fails when there is none. */
    PATH,
    /**
     * The Redis 6.2 binary bundled in {@code com.github.codemonstur:embedded-redis}, extracted once
     * per JVM into a temporary directory removed at exit.
     */
    EMBEDDED;

    /**
     * The system property that picks the binary for {@link #AUTO}: {@code auto} (default),
     * {@code path}, {@code embedded} or the path of a {@code redis-server} executable.
     */
    public static final String PROPERTY = "cachet.redis.binary";

    private static final String EXECUTABLE = "redis-server";
    private static final Object EMBEDDED_LOCK = new Object();
    private static @Nullable Path embedded; // guarded by EMBEDDED_LOCK

    /**
     * Finds the executable this constant stands for.
     *
     * @return the path of a {@code redis-server} executable
     * @throws IllegalStateException when there is none of that kind here
     * @throws IllegalArgumentException when {@value #PROPERTY} has an invalid value
     */
    public Path executable() {
        switch (this) {
            case PATH:
                return onPath().orElseThrow(() -> new IllegalStateException(
                        "no executable " + EXECUTABLE + " on the PATH (" + System.getenv("PATH") + ")"));
            case EMBEDDED:
                return embedded();
            case AUTO:
            default:
                return fromSystemProperty();
        }
    }

    /**
     * Returns the first executable {@code redis-server} on the {@code PATH}.
     *
     * @return its path, or empty when there is none
     */
    public static Optional<Path> onPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, EXECUTABLE);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Path fromSystemProperty() {
        String value = System.getProperty(PROPERTY, "auto").trim();
        switch (value.toLowerCase(Locale.ROOT)) {
            case "":
            case "auto":
                return onPath().orElseGet(RedisBinary::embedded);
            case "path":
                return PATH.executable();
            case "embedded":
                return embedded();
            default:
                Path path = Path.of(value);
                if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                    throw new IllegalArgumentException(PROPERTY
                            + " must be auto, path, embedded or an executable file, was " + value);
                }
                return path;
        }
    }

    private static Path embedded() {
        synchronized (EMBEDDED_LOCK) {
            if (embedded == null) {
                try {
                    File dir = Files.createTempDirectory("cachet-redis-bin").toFile();
                    // Registered before the binary, so deleted after it (reverse order).
                    dir.deleteOnExit();
                    embedded = ExecutableProvider.newJarResourceProvider(() -> dir).get().toPath();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot extract the embedded Redis binary", e);
                } catch (RuntimeException e) {
                    throw new IllegalStateException("embedded-redis bundles no redis-server binary for "
                            + System.getProperty("os.name") + "/" + System.getProperty("os.arch"), e);
                }
            }
            return embedded;
        }
    }
}
