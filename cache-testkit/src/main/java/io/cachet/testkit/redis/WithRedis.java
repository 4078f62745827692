package io.cachet.testkit.redis;

import io.cachet.servers.RedisBinary;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a real Redis server for the annotated test class, tagged {@code redis}; test and
 * lifecycle methods receive it as a {@link RedisServer} parameter.
 *
 * <pre>{@code
 * @WithRedis
 * final class MyRedisIT {
 *     @Test void get_afterSet(RedisServer redis) { redis.command("SET", "k", "v"); }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@ExtendWith(RedisServerExtension.class)
@Tag("redis")
public @interface WithRedis {
    /**
     * Which binary to run.
     *
     * @return the binary; {@link RedisBinary#AUTO} by default
     */
    RedisBinary binary() default RedisBinary.AUTO;
}
