package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.kafka.KafkaBrokerExtension;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The non-blocking view completes on the configured executor, and never starts a thread per call. */
@Tag("kafka")
final class AsyncIT {

  @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

  private static final AtomicInteger TOPICS = new AtomicInteger();

  @Test
  void asyncPut_completesThroughTheConfiguredExecutor() {
    AtomicInteger executed = new AtomicInteger();
    Executor counting = task -> {
      executed.incrementAndGet();
      task.run();
    };
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(config(counting));
      List<CompletableFuture<Void>> puts = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        puts.add(cache.async().put("k" + i, "v").toCompletableFuture());
      }
      CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).join();
      assertThat(executed.get()).isGreaterThanOrEqualTo(100);
      assertThat(cache.get("k99")).isEqualTo("v");
    }
  }

  @Test
  void asyncPut_withTheDefaultExecutor_doesNotStartAThreadPerCall() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(config(null));
      long before = threads.getTotalStartedThreadCount();
      List<CompletableFuture<Void>> puts = new ArrayList<>();
      for (int i = 0; i < 1_000; i++) {
        puts.add(cache.async().put("k" + i, "v").toCompletableFuture());
      }
      CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).join();
      // On a machine whose common pool has one thread, CompletableFuture's *Async methods would
      // start one thread per completion: about 1,000 here.
      assertThat(threads.getTotalStartedThreadCount() - before).isLessThan(100);
    }
  }

  private static CacheConfig config(Executor executor) {
    CacheConfig.Builder builder = CacheConfig.builder("async")
        .backend(ReplicatedCacheProvider.NAME)
        .backendOptions(ReplicationOptions.builder()
            .bootstrapServers(KAFKA.broker().bootstrapServers())
            .topic("async-" + TOPICS.incrementAndGet())
            .build());
    if (executor != null) {
      builder.executor(executor);
    }
    return builder.build();
  }
}
