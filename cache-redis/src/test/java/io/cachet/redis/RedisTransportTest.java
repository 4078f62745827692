package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisException;

final class RedisTransportTest {

  private final CommandTimeouts timeouts = new CommandTimeouts("test client");

  @AfterEach
  void close() {
    timeouts.close();
  }

  /** A command that never reaches Redis the first time (no connection), and is answered after. */
  private static Supplier<CompletionStage<String>> unsentOnce(AtomicInteger sends) {
    return () -> sends.incrementAndGet() == 1
        ? CompletableFuture.failedFuture(new RedisConnectionException("no connection"))
        : CompletableFuture.completedFuture("OK");
  }

  @Test
  void commandThatNeverReachedRedis_isResentWithinTheBound() {
    AtomicInteger sends = new AtomicInteger();
    CompletableFuture<String> reply = new CompletableFuture<>();
    RedisTransport.attempt(timeouts, unsentOnce(sends), reply, System.nanoTime() + TimeUnit.SECONDS.toNanos(2), 0);
    assertThat(reply).succeedsWithin(Duration.ofSeconds(2)).isEqualTo("OK");
    assertThat(sends).hasValue(2);
  }

  @Test
  void commandAnsweredAfterTheCallerWasFailed_stillRunsWhatDependsOnIt() {
    // A write's stage invalidates the near copy when Redis answers, also after the caller's bound
    // (RedisCache.write): failing the caller must not cancel that stage.
    CompletableFuture<String> redis = new CompletableFuture<>();
    AtomicBoolean invalidated = new AtomicBoolean();
    CompletableFuture<String> reply = new CompletableFuture<>();
    RedisTransport.attempt(timeouts, () -> redis.whenComplete((r, e) -> invalidated.set(true)), reply,
        System.nanoTime() + TimeUnit.SECONDS.toNanos(2), 0);
    reply.completeExceptionally(new CommandTimeouts.CommandTimeoutException(1));
    redis.complete("OK");
    assertThat(invalidated).as("the late answer's invalidation ran").isTrue();
  }

  @Test
  void resend_isNotSentOnceTheCallerWasFailed() {
    // The caller is failed while the resend waits its turn (its bound fired, or a burst of
    // failures delayed the resend past it): it may write the key again, so the old write must
    // not go out after that.
    AtomicInteger sends = new AtomicInteger();
    CompletableFuture<String> reply = new CompletableFuture<>();
    RedisTransport.attempt(timeouts, unsentOnce(sends), reply, System.nanoTime() + TimeUnit.SECONDS.toNanos(2), 0);
    reply.completeExceptionally(new CommandTimeouts.CommandTimeoutException(1));
    CompletableFuture<Void> resendTurnPassed = new CompletableFuture<>();
    timeouts.later(RedisTransport.RESEND_DELAY_MILLIS * 3, () -> resendTurnPassed.complete(null));
    assertThat(resendTurnPassed).succeedsWithin(Duration.ofSeconds(2));
    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> sends.get() == 1);
  }

  @Test
  void isUnavailable_connectionFailureWrappedInAPlainRedisException() {
    // What Redisson reports for a command sent while a cluster primary is down.
    RedisException wrapped =
        new RedisException("Unexpected exception while processing command", new ConnectException("Connection refused"));
    assertThat(RedisTransport.isUnavailable(wrapped)).isTrue();
    assertThat(RedisTransport.isUnavailable(new CompletionException(wrapped))).isTrue();
  }

  @Test
  void commandThatNeverReachedRedis_closeToTheBound_isNotResent_andFailsAsNeverSent() {
    // A resend that could be answered only after the caller's bound would turn "nothing happened"
    // into "outcome unknown".
    AtomicInteger sends = new AtomicInteger();
    CompletableFuture<String> reply = new CompletableFuture<>();
    RedisTransport.attempt(timeouts, unsentOnce(sends), reply,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RedisTransport.RESEND_DELAY_MILLIS * 3 / 2), 0);
    assertThat(reply).failsWithin(Duration.ofSeconds(2))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(RedisConnectionException.class);
    assertThat(sends).hasValue(1);
  }

  @Test
  void pipeline_writeFailedHalfWay_mayHaveReachedRedis_unlikeNoConnection() {
    assertThat(RedisTransport.neverSentInPipeline(new RedisConnectionException("Unable to connect"))).isTrue();
    assertThat(RedisTransport.neverSentInPipeline(
        new org.redisson.client.WriteRedisConnectionException("Unable to write command into connection"))).isFalse();
    assertThat(RedisTransport.neverSentInPipeline(new RedisException("WRONGTYPE"))).isFalse();
  }

  @Test
  void isUnavailable_redirectionLoop_isTheTopologyNotTheKey() {
    assertThat(RedisTransport.isUnavailable(new RedisException("MOVED redirection loop detected. Node 127.0.0.1:7000"
        + " has further redirect to 127.0.0.1:7001"))).isTrue();
  }

  @Test
  void isUnavailable_errorReplyIsNot() {
    assertThat(RedisTransport.isUnavailable(new RedisException("WRONGTYPE Operation against a key"))).isFalse();
  }
}
