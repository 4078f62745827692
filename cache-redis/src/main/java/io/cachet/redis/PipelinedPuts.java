package io.cachet.redis;

import io.cachet.CacheException;
import io.cachet.spi.StatsCounter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * A {@code putAll}'s writes: pipelined batches of {@value #BATCH} {@code SET}s (one pipeline per
 * node, each sent and resent on its own, as near misses are), at most {@value #IN_FLIGHT} in flight, each
 * bounded from when it is sent. So a large map takes as long as it needs, and never queues
 * writes behind the others until they fail their bound (Redisson holds a pooled connection per
 * single command until its reply). A batch's completion lets the next one go; after a failure
 * nothing more is sent. As for a single write, a batch invalidates its keys' near copies when
 * Redis answers, fails, or is given up on, before the caller returns.
 *
 * @param <K> the cache's key type
 */
final class PipelinedPuts<K> {

  /** SETs per pipelined batch. */
  static final int BATCH = 256;
  /** Batches in flight at once, per call. */
  static final int IN_FLIGHT = 4;

  private final RedisTransport redis;
  private final NearCache<K, ?> near;
  private final StatsCounter stats;

  PipelinedPuts(RedisTransport redis, NearCache<K, ?> near, StatsCounter stats) {
    this.redis = redis;
    this.near = near;
    this.stats = stats;
  }

  /**
   * Writes {@code commands} (each key's {@code SET} arguments, starting with its Redis key),
   * blocking the caller until every batch sent is answered.
   *
   * @throws CacheException the first failure; what was written before it stays
   */
  void putAll(Map<K, Object[]> commands) {
    Semaphore window = new Semaphore(IN_FLIGHT);
    AtomicReference<@Nullable Throwable> failed = new AtomicReference<>();
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    List<K> keys = new ArrayList<>(BATCH);
    List<Object[]> sets = new ArrayList<>(BATCH);
    Iterator<Map.Entry<K, Object[]>> pending = commands.entrySet().iterator();
    while (pending.hasNext() && failed.get() == null) {
      Map.Entry<K, Object[]> command = pending.next();
      keys.add(command.getKey());
      sets.add(command.getValue());
      if (sets.size() < BATCH && pending.hasNext()) {
        continue;
      }
      try {
        window.acquire(); // bounded: every batch in flight completes within its own bound
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CacheException("interrupted while writing to Redis; some entries may have been written", e);
      }
      if (failed.get() != null) {
        break;
      }
      CompletableFuture<Void> batch = send(List.copyOf(keys), List.copyOf(sets));
      batch.whenComplete((ok, error) -> {
        if (error != null) {
          failed.compareAndSet(null, error);
        }
        window.release();
      });
      sent.add(batch);
      keys.clear();
      sets.clear();
    }
    redis.await(CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)));
  }

  /**
   * One batch, sent as one pipeline per node (on a Cluster), each resent on its own: a node that
   * cannot be reached fails, and resends, only its own keys' {@code SET}s, never those another
   * node has applied already (whose resend could overwrite a later write of another client).
   */
  private CompletableFuture<Void> send(List<K> keys, List<Object[]> sets) {
    List<int[]> nodes;
    try {
      List<byte[]> redisKeys = new ArrayList<>(sets.size());
      for (Object[] set : sets) {
        redisKeys.add((byte[]) set[0]);
      }
      nodes = redis.commands().groupByNode(redisKeys);
    } catch (RuntimeException e) {
      nodes = List.of(); // no topology to group by: one pipeline, which fails as a command would
    }
    if (nodes.size() <= 1) {
      return sendToOneNode(keys, sets);
    }
    CompletableFuture<?>[] parts = new CompletableFuture<?>[nodes.size()];
    for (int n = 0; n < parts.length; n++) {
      int[] positions = nodes.get(n);
      List<K> nodeKeys = new ArrayList<>(positions.length);
      List<Object[]> nodeSets = new ArrayList<>(positions.length);
      for (int i : positions) {
        nodeKeys.add(keys.get(i));
        nodeSets.add(sets.get(i));
      }
      parts[n] = sendToOneNode(nodeKeys, nodeSets);
    }
    return CompletableFuture.allOf(parts);
  }

  /**
   * One node's pipeline; every key's near copy is invalidated when it completes, and again if it
   * is given up on. A resend carries only the {@code SET}s that never reached Redis: a node can
   * apply part of the pipeline and redirect the rest ({@code MOVED}/{@code ASK}) to a node that
   * cannot be reached, and the part it applied must not be written again.
   */
  private CompletableFuture<Void> sendToOneNode(List<K> keys, List<Object[]> sets) {
    AtomicReference<List<Object[]>> unsent = new AtomicReference<>(sets);
    AtomicInteger applied = new AtomicInteger();
    return redis.<Void>send(
            () -> sendEach(unsent, applied).whenComplete((ok, error) -> keys.forEach(near::invalidate)))
        .handle((ok, error) -> {
          // The SETs Redis answered OK are puts, whatever became of the others.
          if (applied.get() > 0) {
            stats.recordPuts(applied.get());
          }
          if (error == null) {
            return null;
          }
          Throwable cause = RedisTransport.unwrap(error);
          if (cause instanceof MayHaveReachedRedis sent) {
            cause = sent.getCause();
          }
          if (cause instanceof TimeoutException) {
            keys.forEach(near::invalidate);
          }
          throw redis.failure(null, cause); // a batch: no single key to name
        });
  }

  /**
   * A pipeline's failure after which some of its commands may have run: the transport must not
   * send it again (it resends a bare connection failure). Its cause is the failure itself.
   */
  static final class MayHaveReachedRedis extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MayHaveReachedRedis(Throwable cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  /**
   * Sends {@code unsent}'s {@code SET}s, adds to {@code applied} those Redis answered OK, and leaves
   * in {@code unsent} those that never reached Redis. Fails with a failure that may have reached
   * Redis if any did (nothing is resent then), else with one that did not (the transport resends
   * what is left), else completes.
   */
  private CompletionStage<Void> sendEach(AtomicReference<List<Object[]>> unsent, AtomicInteger applied) {
    List<Object[]> now = unsent.get();
    return redis.commands().setEach(now).thenApply(failures -> {
      int ok = 0;
      for (Throwable failure : failures) {
        if (failure == null) {
          ok++;
        }
      }
      applied.addAndGet(ok);
      List<Object[]> again = new ArrayList<>();
      Throwable neverSent = null;
      for (int i = 0; i < failures.size(); i++) {
        Throwable failure = failures.get(i);
        if (failure == null) {
          continue;
        }
        if (!RedisTransport.neverSentInPipeline(RedisTransport.unwrap(failure))) {
          throw new CompletionException(new MayHaveReachedRedis(failure)); // never resent
        }
        again.add(now.get(i));
        neverSent = failure;
      }
      if (neverSent != null) {
        unsent.set(again);
        throw new CompletionException(neverSent);
      }
      return null;
    });
  }
}
