package io.cachet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.testkit.redis.RedisServerExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ByteArrayResource;

/**
 * Runs the README's Spring Boot section: its {@code application.yml} on a real Redis, and its
 * service, compiled here; checks that the README shows only what is compiled and run here.
 */
@Tag("redis")
final class ReadmeSpringBootIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  /** Stands in for the application's database in the README. */
  static final class Repository {
    final AtomicInteger loads = new AtomicInteger();

    Book load(String id) {
      loads.incrementAndGet();
      return new Book(id, "Title " + id);
    }
  }

  /** The README's service. */
  public static class BookCatalog {
    private final Repository repository;

    BookCatalog(Repository repository) {
      this.repository = repository;
    }

    // README spring boot: begin
    @Cacheable("books")
    public Book find(String id) {
      return repository.load(id);  // runs once per id until evicted or expired
    }

    @CacheEvict("books")
    public void evict(String id) {}
    // README spring boot: end
  }

  @SpringBootConfiguration
  @EnableAutoConfiguration
  @EnableCaching
  static class App {
    @Bean
    Repository repository() {
      return new Repository();
    }

    @Bean
    BookCatalog bookCatalog(Repository repository) {
      return new BookCatalog(repository);
    }
  }

  @Test
  void readmeConfiguration_cachesInRedis() throws IOException {
    String yaml = block(readmeSection(), "yaml").replace("com.example.Book", Book.class.getName());
    List<PropertySource<?>> sources =
        new YamlPropertySourceLoader().load("README", new ByteArrayResource(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
        .web(org.springframework.boot.WebApplicationType.NONE)
        .properties(Map.of("REDIS_ADDRESS", REDIS.server().uri()))
        .initializers(c -> sources.forEach(s -> c.getEnvironment().getPropertySources().addFirst(s)))
        .run()) {
      BookCatalog catalog = context.getBean(BookCatalog.class);
      Repository repository = context.getBean(Repository.class);

      assertThat(catalog.find("1")).isEqualTo(catalog.find("1"));
      assertThat(repository.loads).hasValue(1);
      assertThat(REDIS.server().command("GET", "books::1")).asString().isEqualTo("{\"id\":\"1\",\"title\":\"Title 1\"}");
      catalog.evict("1");
      assertThat(REDIS.server().command("EXISTS", "books::1")).isEqualTo(0L);
    }
  }

  @Test
  void readme_showsTheServiceAsCompiledHere() throws IOException {
    String source = Files.readString(Path.of("src/test/java/io/cachet/spring/boot/ReadmeSpringBootIT.java"));
    Matcher tested = Pattern.compile("// README spring boot: begin\\n(.*?)\\n\\s*// README spring boot: end", Pattern.DOTALL)
        .matcher(source);
    assertThat(tested.find()).isTrue();
    assertThat(normalize(tested.group(1))).containsSubsequence(normalize(block(readmeSection(), "java")));
  }

  private static String readmeSection() throws IOException {
    String readme = Files.readString(Path.of("../README.md"));
    int start = readme.indexOf("\n## Spring Boot");
    assertThat(start).as("README has a Spring Boot section").isPositive();
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  private static String block(String markdown, String language) {
    Matcher block = Pattern.compile("```" + language + "\\n(.*?)```", Pattern.DOTALL).matcher(markdown);
    assertThat(block.find()).as("a %s block", language).isTrue();
    return block.group(1);
  }

  private static List<String> normalize(String code) {
    return code.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
  }

}
