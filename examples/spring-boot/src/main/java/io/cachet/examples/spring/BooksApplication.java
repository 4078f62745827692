package io.cachet.examples.spring;

import io.cachet.servers.RedisProcess;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cache.annotation.EnableCaching;

/**
 * A REST service whose lookups are cached in Redis by the Cachet starter, configured in
 * {@code application.yml} only.
 *
 * <p>Without {@code REDIS_ADDRESS} it starts an embedded Redis first, so a first run works
 * anywhere; {@code REDIS_ADDRESS=redis://host:6379} uses a real one.
 */
@SpringBootApplication
@EnableCaching
public class BooksApplication {

  public static void main(String[] args) {
    if (System.getenv("REDIS_ADDRESS") == null && System.getProperty("REDIS_ADDRESS") == null) {
      RedisProcess redis = RedisProcess.create().start();
      Runtime.getRuntime().addShutdownHook(new Thread(redis::close, "embedded-redis-stop"));
      System.setProperty("REDIS_ADDRESS", redis.uri());
    }
    SpringApplication.run(BooksApplication.class, args);
  }
}
