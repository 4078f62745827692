package io.cachet.testkit.redis;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import redis.embedded.core.ExecutableProvider;

/** Finds the {@code redis-server} executable a {@link RedisBinary} stands for. */
final class RedisExecutables {
    private static final String EXECUTABLE = "redis-server";

    private static final Object EMBEDDED_LOCK = new Object();
    private static @Nullable Path embedded; // guarded by EMBEDDED_LOCK

    private RedisExecutables() {}

    static Path resolve(RedisBinary binary) {
        switch (binary) {
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

    private static Path fromSystemProperty() {
        String value = System.getProperty(RedisServer.BINARY_PROPERTY, "auto").trim();
        switch (value.toLowerCase(Locale.ROOT)) {
            case "":
            case "auto":
                return onPath().orElseGet(RedisExecutables::embedded);
            case "path":
                return resolve(RedisBinary.PATH);
            case "embedded":
                return embedded();
            default:
                Path path = Path.of(value);
                if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                    throw new IllegalArgumentException(RedisServer.BINARY_PROPERTY
                            + " must be auto, path, embedded or an executable file, was " + value);
                }
                return path;
        }
    }

    static Optional<Path> onPath() {
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

    /** Extracts the bundled binary once per JVM into a temporary directory removed at exit. */
    static Path embedded() {
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
                    throw new IllegalStateException("embedded-redis bundles no binary for "
                            + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
                            + "; put a redis-server on the PATH", e);
                }
            }
            return embedded;
        }
    }
}
