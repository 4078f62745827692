package io.cachet.spring.boot;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.jspecify.annotations.Nullable;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Matches unless {@code spring.cache.type} chooses one of Boot's own cache managers. */
final class NoSpringCacheTypeCondition extends SpringBootCondition {

  @Override
  public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
    String type = springCacheType(context.getEnvironment());
    if (type == null) {
      return ConditionOutcome.match("spring.cache.type is not set");
    }
    return ConditionOutcome.noMatch("spring.cache.type is '" + type + "'");
  }

  /** {@code spring.cache.type}, or null when it is not set (or blank). */
  static @Nullable String springCacheType(Environment environment) {
    String type = environment.getProperty("spring.cache.type");
    return type == null || type.isBlank() ? null : type.trim();
  }
}
