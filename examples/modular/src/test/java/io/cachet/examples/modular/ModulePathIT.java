package io.cachet.examples.modular;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.testkit.redis.RedisServerExtension;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs {@link ModularApp} in its own JVM on the module path, with every Cachet module and its
 * dependencies there, and checks what it found: the module descriptors' exports, services and
 * requirements, as a modular application sees them, and a round trip through the redis backend
 * (Redisson relocated inside cache-redis's module) to a Redis the test kit starts.
 */
@Tag("redis")
final class ModulePathIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  @Test
  void modularApp_findsEveryBackendAndTheJCacheProviderThroughModuleServices() throws Exception {
    String modulePath = Path.of("target", "classes").toAbsolutePath() + File.pathSeparator
        + Files.readString(Path.of("target", "module-path.txt"), StandardCharsets.UTF_8).trim();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path out = Files.createTempFile("modular-app", ".out");
    try {
      Process process = new ProcessBuilder(
              java.toString(),
              "--module-path", modulePath,
              "--module", "io.cachet.examples.modular/io.cachet.examples.modular.ModularApp",
              REDIS.server().uri())
          .redirectErrorStream(true)
          .redirectOutput(out.toFile())
          .start();
      boolean exited = process.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        process.destroyForcibly();
      }
      List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
      assertThat(exited).as("exited in time; output: %s", lines).isTrue();
      assertThat(process.exitValue()).as("exit code; output: %s", lines).isZero();
      assertThat(lines)
          .contains(
              "module=io.cachet.examples.modular",
              "apiModule=io.cachet",
              "internalExportedToApp=false",
              "spiExported=true",
              "backends=[local, redis, replicated-kafka]",
              "roundTrip=v",
              "jcacheProvides=[javax.cache.spi.CachingProvider with [io.cachet.jcache.spi.CachetCachingProvider]]",
              "jcacheProvider=io.cachet.jcache.spi.CachetCachingProvider",
              "jcacheModule=io.cachet.jcache",
              "jcacheRoundTrip=v",
              "redissonModule=io.cachet.redis",
              "redisRoundTrip=v");
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
