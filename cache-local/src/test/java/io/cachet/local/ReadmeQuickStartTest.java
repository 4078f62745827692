package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Compiles and runs the README's quick start, and checks that the README shows only this code. */
final class ReadmeQuickStartTest {

  /** Stands in for the application's database in the quick start. */
  static final class Database {
    private final Map<String, String> rows = Map.of("7", "Grace");

    String load(String id) {
      return rows.get(id);
    }
  }

  @Test
  void quickStart_runs() {
    Database database = new Database();
    // README quick start: begin
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> users = manager.create(CacheConfig.builder("users")
          .maximumSize(10_000)
          .expireAfterWrite(Duration.ofMinutes(5))
          .build());

      users.put("42", "Ada");
      String name = users.get("42");                           // "Ada"
      String other = users.get("7", id -> database.load(id));  // read-through, one load per key at a time
      users.put("token", "xyz", Duration.ofSeconds(30));       // per-entry time to live
      assertThat(name).isEqualTo("Ada");
      assertThat(other).isEqualTo("Grace");
      assertThat(users.get("token")).isEqualTo("xyz");
    }
    // README quick start: end
  }

  @Test
  void readme_showsTheQuickStartAsCompiledHere() throws IOException {
    String source = Files.readString(Path.of("src/test/java/io/cachet/local/ReadmeQuickStartTest.java"));
    Matcher block = Pattern.compile("// README quick start: begin\\n(.*?)\\n\\s*// README quick start: end", Pattern.DOTALL)
        .matcher(source);
    assertThat(block.find()).isTrue();
    List<String> tested = normalize(block.group(1));
    String readme = Files.readString(Path.of("../README.md"));
    Matcher java = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(java.find()).as("README has a java block").isTrue();
    // Every line the README shows is compiled and run here, in the same order.
    assertThat(tested).containsSubsequence(normalize(java.group(1)));
  }

  private static List<String> normalize(String code) {
    return code.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
  }
}
