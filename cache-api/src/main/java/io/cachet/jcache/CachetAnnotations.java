package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.io.Serializable;
import java.lang.annotation.Annotation;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.annotation.CacheDefaults;
import javax.cache.annotation.CacheKey;
import javax.cache.annotation.CachePut;
import javax.cache.annotation.CacheRemove;
import javax.cache.annotation.CacheRemoveAll;
import javax.cache.annotation.CacheResult;
import javax.cache.annotation.CacheValue;
import javax.cache.configuration.MutableConfiguration;
import org.jspecify.annotations.Nullable;

/**
 * JCache annotation caching without a DI container: a JDK dynamic proxy over an interface that
 * applies {@link CacheResult}, {@link CachePut}, {@link CacheRemove} and {@link CacheRemoveAll}.
 *
 * <pre>{@code
 * interface Users { User find(String id); }
 * class DatabaseUsers implements Users {
 *   @CacheResult(cacheName = "users") public User find(String id) { return database.load(id); }
 * }
 * Users users = CachetAnnotations.proxy(Users.class, new DatabaseUsers());
 * users.find("42"); // loads
 * users.find("42"); // from the cache
 * }</pre>
 *
 * <p>Annotations are read from the interface method and from the target's implementing method;
 * {@link CacheDefaults} from the interface or the target's class. Keys are made of the parameters
 * annotated with {@link CacheKey}, or else of every parameter (but the {@link CacheValue} one).
 * A cache that does not exist is created with a default {@link MutableConfiguration}, as the
 * reference implementation does. Supported: {@code cacheName}, {@code skipGet},
 * {@code exceptionCacheName} with {@code cachedExceptions}/{@code nonCachedExceptions},
 * {@code afterInvocation}, and the {@code cacheFor}/{@code noCacheFor} and
 * {@code evictFor}/{@code noEvictFor} filters; custom {@code cacheResolverFactory} and
 * {@code cacheKeyGenerator} classes are not. Calls to methods of {@link Object} go straight to the
 * target. The proxy is as thread-safe as its target.
 */
public final class CachetAnnotations {

  private CachetAnnotations() {}

  /** Returns a proxy of {@code target} that caches through the default JCache cache manager. */
  public static <T> T proxy(Class<T> type, T target) {
    return proxy(type, target, Caching.getCachingProvider().getCacheManager());
  }

  /**
   * Returns a proxy of {@code target}, seen as the interface {@code type}, that caches through
   * {@code cacheManager}.
   *
   * @throws IllegalArgumentException if {@code type} is not an interface
   */
  public static <T> T proxy(Class<T> type, T target, CacheManager cacheManager) {
    requireNonNull(type, "type");
    requireNonNull(target, "target");
    requireNonNull(cacheManager, "cacheManager");
    if (!type.isInterface()) {
      throw new IllegalArgumentException(type.getName() + " is not an interface");
    }
    Object proxy =
        Proxy.newProxyInstance(
            type.getClassLoader(), new Class<?>[] {type}, new Handler(target, cacheManager));
    return type.cast(proxy);
  }

  /** A key generated from method parameters; equal when the parameters are. Immutable. */
  static final class GeneratedKey implements javax.cache.annotation.GeneratedCacheKey, Serializable {

    private static final long serialVersionUID = 1L;
    private final Object[] parameters;

    GeneratedKey(Object[] parameters) {
      this.parameters = parameters;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof GeneratedKey k && Arrays.deepEquals(parameters, k.parameters);
    }

    @Override
    public int hashCode() {
      return Arrays.deepHashCode(parameters);
    }

    @Override
    public String toString() {
      return "GeneratedKey" + Arrays.deepToString(parameters);
    }
  }

  private static final class Handler implements InvocationHandler {

    private final Object target;
    private final CacheManager cacheManager;
    private final Map<Method, Operation> operations = new ConcurrentHashMap<>();

    Handler(Object target, CacheManager cacheManager) {
      this.target = target;
      this.cacheManager = cacheManager;
    }

    @Override
    public @Nullable Object invoke(Object proxy, Method method, Object @Nullable [] args) throws Throwable {
      Object[] arguments = args == null ? new Object[0] : args;
      if (method.getDeclaringClass() == Object.class) {
        return call(method, arguments);
      }
      Operation operation = operations.computeIfAbsent(method, this::describe);
      return operation.run(this, method, arguments);
    }

    private @Nullable Object call(Method method, Object[] arguments) throws Throwable {
      if (!method.canAccess(target)) {
        method.setAccessible(true); // a non-public interface of the application's
      }
      try {
        return method.invoke(target, arguments);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }

    private Operation describe(Method method) {
      Method implementation = implementation(method);
      CacheDefaults defaults = annotation(method, implementation, CacheDefaults.class, true);
      String defaultName = defaultCacheName(implementation);
      CacheResult result = annotation(method, implementation, CacheResult.class, false);
      if (result != null) {
        return new ResultOperation(
            name(result.cacheName(), defaults, defaultName), result, keyParameters(method, implementation));
      }
      CachePut put = annotation(method, implementation, CachePut.class, false);
      if (put != null) {
        return new PutOperation(
            name(put.cacheName(), defaults, defaultName), put, keyParameters(method, implementation),
            valueParameter(method, implementation));
      }
      CacheRemove remove = annotation(method, implementation, CacheRemove.class, false);
      if (remove != null) {
        return new RemoveOperation(
            name(remove.cacheName(), defaults, defaultName), remove, keyParameters(method, implementation));
      }
      CacheRemoveAll removeAll = annotation(method, implementation, CacheRemoveAll.class, false);
      if (removeAll != null) {
        return new RemoveAllOperation(name(removeAll.cacheName(), defaults, defaultName), removeAll);
      }
      return (handler, m, arguments) -> handler.call(m, arguments);
    }

    private Method implementation(Method method) {
      try {
        return target.getClass().getMethod(method.getName(), method.getParameterTypes());
      } catch (NoSuchMethodException e) {
        return method;
      }
    }

    private static <A extends Annotation> @Nullable A annotation(
        Method method, Method implementation, Class<A> type, boolean onClass) {
      A found = implementation.getAnnotation(type);
      if (found == null) {
        found = method.getAnnotation(type);
      }
      if (found == null && onClass) {
        found = implementation.getDeclaringClass().getAnnotation(type);
        if (found == null) {
          found = method.getDeclaringClass().getAnnotation(type);
        }
      }
      return found;
    }

    private static String defaultCacheName(Method method) {
      return method.getDeclaringClass().getName() + "." + method.getName() + "("
          + Arrays.stream(method.getParameterTypes()).map(Class::getName).collect(Collectors.joining(","))
          + ")";
    }

    private static String name(String explicit, @Nullable CacheDefaults defaults, String fallback) {
      if (!explicit.isEmpty()) {
        return explicit;
      }
      if (defaults != null && !defaults.cacheName().isEmpty()) {
        return defaults.cacheName();
      }
      return fallback;
    }

    /** The positions of the key parameters: the {@code @CacheKey} ones, else all but the value. */
    private static int[] keyParameters(Method method, Method implementation) {
      int count = method.getParameterCount();
      List<Integer> keys = new ArrayList<>();
      int value = -1;
      for (int i = 0; i < count; i++) {
        if (parameterHas(method, implementation, i, CacheKey.class)) {
          keys.add(i);
        }
        if (parameterHas(method, implementation, i, CacheValue.class)) {
          value = i;
        }
      }
      if (keys.isEmpty()) {
        for (int i = 0; i < count; i++) {
          if (i != value) {
            keys.add(i);
          }
        }
      }
      return keys.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int valueParameter(Method method, Method implementation) {
      for (int i = 0; i < method.getParameterCount(); i++) {
        if (parameterHas(method, implementation, i, CacheValue.class)) {
          return i;
        }
      }
      throw new IllegalArgumentException(
          "@CachePut method " + method + " needs a parameter annotated with @CacheValue");
    }

    private static boolean parameterHas(
        Method method, Method implementation, int index, Class<? extends Annotation> type) {
      return Arrays.stream(method.getParameterAnnotations()[index]).anyMatch(type::isInstance)
          || Arrays.stream(implementation.getParameterAnnotations()[index]).anyMatch(type::isInstance);
    }

    static GeneratedKey key(int[] positions, Object[] arguments) {
      Object[] parts = new Object[positions.length];
      for (int i = 0; i < positions.length; i++) {
        parts[i] = arguments[positions[i]];
      }
      return new GeneratedKey(parts);
    }

    Cache<Object, Object> cache(String name) {
      Cache<Object, Object> cache = cacheManager.getCache(name);
      if (cache != null) {
        return cache;
      }
      try {
        return cacheManager.createCache(name, new MutableConfiguration<>());
      } catch (CacheException e) {
        Cache<Object, Object> created = cacheManager.getCache(name); // created concurrently
        if (created == null) {
          throw e;
        }
        return created;
      }
    }
  }

  /** What a proxy does for one method. */
  @FunctionalInterface
  private interface Operation {
    @Nullable Object run(Handler handler, Method method, Object[] arguments) throws Throwable;
  }

  /**
   * Whether {@code failure} passes an include/exclude filter, as the reference interceptors decide:
   * with both lists empty, {@code bothEmpty}; with only an exclude list, anything not excluded;
   * otherwise anything included and not excluded.
   */
  private static boolean matches(
      Throwable failure, Class<? extends Throwable>[] include, Class<? extends Throwable>[] exclude,
      boolean bothEmpty) {
    if (include.length == 0 && exclude.length == 0) {
      return bothEmpty;
    }
    boolean included = include.length == 0 || Arrays.stream(include).anyMatch(c -> c.isInstance(failure));
    return included && Arrays.stream(exclude).noneMatch(c -> c.isInstance(failure));
  }

  private record ResultOperation(String cacheName, CacheResult annotation, int[] keyParameters)
      implements Operation {

    @Override
    public @Nullable Object run(Handler handler, Method method, Object[] arguments) throws Throwable {
      GeneratedKey key = Handler.key(keyParameters, arguments);
      Cache<Object, Object> cache = handler.cache(cacheName);
      String exceptionCacheName = annotation.exceptionCacheName();
      if (!annotation.skipGet()) {
        Object cached = cache.get(key);
        if (cached != null) {
          return cached;
        }
        if (!exceptionCacheName.isEmpty()) {
          Object failure = handler.cache(exceptionCacheName).get(key);
          if (failure instanceof Throwable throwable) {
            throw throwable;
          }
        }
      }
      Object value;
      try {
        value = handler.call(method, arguments);
      } catch (Throwable failure) {
        if (!exceptionCacheName.isEmpty()
            && matches(failure, annotation.cachedExceptions(), annotation.nonCachedExceptions(), true)) {
          handler.cache(exceptionCacheName).put(key, failure);
        }
        throw failure;
      }
      if (value != null) {
        cache.put(key, value);
      }
      return value;
    }
  }

  private record PutOperation(String cacheName, CachePut annotation, int[] keyParameters, int valueParameter)
      implements Operation {

    @Override
    public @Nullable Object run(Handler handler, Method method, Object[] arguments) throws Throwable {
      GeneratedKey key = Handler.key(keyParameters, arguments);
      Object value = arguments[valueParameter];
      if (!annotation.afterInvocation()) {
        put(handler, key, value);
        return handler.call(method, arguments);
      }
      Object result;
      try {
        result = handler.call(method, arguments);
      } catch (Throwable failure) {
        if (matches(failure, annotation.cacheFor(), annotation.noCacheFor(), false)) {
          put(handler, key, value);
        }
        throw failure;
      }
      put(handler, key, value);
      return result;
    }

    private void put(Handler handler, GeneratedKey key, @Nullable Object value) {
      Cache<Object, Object> cache = handler.cache(cacheName);
      if (value == null) {
        cache.remove(key); // JCache stores no nulls: the closest meaning is "no value"
      } else {
        cache.put(key, value);
      }
    }
  }

  private record RemoveOperation(String cacheName, CacheRemove annotation, int[] keyParameters)
      implements Operation {

    @Override
    public @Nullable Object run(Handler handler, Method method, Object[] arguments) throws Throwable {
      GeneratedKey key = Handler.key(keyParameters, arguments);
      if (!annotation.afterInvocation()) {
        handler.cache(cacheName).remove(key);
        return handler.call(method, arguments);
      }
      Object result;
      try {
        result = handler.call(method, arguments);
      } catch (Throwable failure) {
        if (matches(failure, annotation.evictFor(), annotation.noEvictFor(), false)) {
          handler.cache(cacheName).remove(key);
        }
        throw failure;
      }
      handler.cache(cacheName).remove(key);
      return result;
    }
  }

  private record RemoveAllOperation(String cacheName, CacheRemoveAll annotation) implements Operation {

    @Override
    public @Nullable Object run(Handler handler, Method method, Object[] arguments) throws Throwable {
      if (!annotation.afterInvocation()) {
        handler.cache(cacheName).removeAll();
        return handler.call(method, arguments);
      }
      Object result;
      try {
        result = handler.call(method, arguments);
      } catch (Throwable failure) {
        if (matches(failure, annotation.evictFor(), annotation.noEvictFor(), false)) {
          handler.cache(cacheName).removeAll();
        }
        throw failure;
      }
      handler.cache(cacheName).removeAll();
      return result;
    }
  }
}
