package io.cachet.spring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;
import org.springframework.cache.interceptor.SimpleKey;

/**
 * Looks inside Spring's {@link SimpleKey}, the key {@code @Cacheable} makes of a method's
 * parameters, for a parameter whose string form is {@code Object.toString()}'s (its class name and
 * identity hash). Such a key cannot become a {@code String} key: it would differ in every JVM, and
 * two unequal parameters with equal hash codes would share one.
 *
 * <p>{@code SimpleKey} gives no access to its parameters, so this reads its private {@code params}
 * field. Should a Spring version rename it, {@link #available()} turns false (a test checks it) and
 * the parameters go unchecked, as before this check existed.
 */
final class SimpleKeys {

  private static final @Nullable VarHandle PARAMS = paramsHandle();

  private SimpleKeys() {}

  /**
   * Returns the class of the first parameter of {@code key} (a {@link SimpleKey}) whose string form
   * is {@code Object.toString()}'s; null if there is none or {@code key} is no {@code SimpleKey}.
   * {@code SimpleKey} writes arrays by their elements ({@code Arrays.deepToString}), so an array
   * counts by its elements, at any depth.
   */
  static @Nullable Class<?> identityStringParameter(Object key) {
    VarHandle params = PARAMS;
    if (!(key instanceof SimpleKey) || params == null) {
      return null;
    }
    return identityString((Object[]) params.get(key));
  }

  private static @Nullable Class<?> identityString(Object[] values) {
    for (Object value : values) {
      Class<?> found = value == null ? null
          : value instanceof Object[] nested ? identityString(nested)
          : value.getClass().isArray() ? null // primitives: written by value
          : ownsToString(value.getClass()) ? null : value.getClass();
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  /** Whether {@code type} has a {@code toString()} other than {@code Object}'s. */
  static boolean ownsToString(Class<?> type) {
    try {
      return type.getMethod("toString").getDeclaringClass() != Object.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /** Whether the parameters of a {@code SimpleKey} can be read. */
  static boolean available() {
    return PARAMS != null;
  }

  private static @Nullable VarHandle paramsHandle() {
    try {
      return MethodHandles.privateLookupIn(SimpleKey.class, MethodHandles.lookup())
          .findVarHandle(SimpleKey.class, "params", Object[].class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
