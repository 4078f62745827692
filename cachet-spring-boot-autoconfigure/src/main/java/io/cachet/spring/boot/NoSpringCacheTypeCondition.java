package io.cachet.spring.boot;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Matches unless {@code spring.cache.type} chooses one of Boot's own cache managers. */
final class NoSpringCacheTypeCondition extends SpringBootCondition {

  @Override
  public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
    String type = context.getEnvironment().getProperty("spring.cache.type");
    if (type == null || type.isBlank()) {
      return ConditionOutcome.match("spring.cache.type is not set");
    }
    return ConditionOutcome.noMatch("spring.cache.type is '" + type + "'");
  }
}
