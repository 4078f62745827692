package io.cachet.servers;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The files of a server process: its temporary directory and the log a failed start quotes. */
final class ServerFiles {

    private static final Logger LOG = LoggerFactory.getLogger(ServerFiles.class);

    private ServerFiles() {}

    /** Creates a new temporary directory; {@code what} names the server in the error. */
    static Path createDirectory(String prefix, String what) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for " + what, e);
        }
    }

    /** Returns the size of {@code file}, 0 when it does not exist (yet). */
    static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Returns what {@code file} gained since {@code fromOffset}, at most its last {@code maxBytes}. */
    static String tail(Path file, long fromOffset, int maxBytes) {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(fromOffset, raf.length() - maxBytes);
            byte[] bytes = new byte[(int) (raf.length() - start)];
            raf.seek(start);
            raf.readFully(bytes);
            return new String(bytes, UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Deletes {@code root} and everything below it; what cannot be deleted is logged at DEBUG. */
    static void deleteRecursively(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    LOG.debug("cannot delete {}", path, e);
                }
            });
        } catch (IOException e) {
            LOG.debug("cannot delete {}", root, e);
        }
    }
}
