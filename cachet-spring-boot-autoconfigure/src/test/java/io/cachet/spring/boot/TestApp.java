package io.cachet.spring.boot;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.annotation.Bean;

/** The application under test: the starter's auto-configuration and a cached service. */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableCaching
class TestApp {

  @Bean
  BookService bookService() {
    return new BookService();
  }
}
