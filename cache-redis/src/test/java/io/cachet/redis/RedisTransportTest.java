package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.redisson.client.RedisException;

final class RedisTransportTest {

  @Test
  void isUnavailable_connectionFailureWrappedInAPlainRedisException() {
    // What Redisson reports for a command sent while a cluster primary is down.
    RedisException wrapped =
        new RedisException("Unexpected exception while processing command", new ConnectException("Connection refused"));
    assertThat(RedisTransport.isUnavailable(wrapped)).isTrue();
    assertThat(RedisTransport.isUnavailable(new CompletionException(wrapped))).isTrue();
  }

  @Test
  void isUnavailable_errorReplyIsNot() {
    assertThat(RedisTransport.isUnavailable(new RedisException("WRONGTYPE Operation against a key"))).isFalse();
  }
}
