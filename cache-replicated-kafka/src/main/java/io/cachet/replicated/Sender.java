package io.cachet.replicated;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns a cache's {@link KafkaProducer} and the one thread ({@code cachet-send-<cache>}) that calls
 * {@code producer.send}. Thread-safe: any thread {@linkplain #offer offers} a record, which never
 * blocks.
 *
 * <p>Why a thread of its own: {@code producer.send} blocks up to {@code max.block.ms} while the
 * topic's metadata is missing (a broker outage, a producer that has not sent yet) or its buffer is
 * full. Called on a caller's thread, that stalls a server's event loop and every read queued behind
 * it; called on the apply thread, it stalls replication. Here it stalls only this thread: a write
 * still fails at its own deadline (its timer does not depend on this thread), and a record whose
 * write has already failed is dropped instead of sent. The queue is bounded
 * ({@value #MAX_QUEUED_RECORDS} records); when it is full, {@link #offer} refuses at once.
 */
final class Sender {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  /** How many records may wait for the send thread; past it, writes fail at once. */
  static final int MAX_QUEUED_RECORDS = 100_000;

  private final String name;
  private final Producer<byte[], byte[]> producer;
  private final BlockingQueue<Outgoing> queue = new LinkedBlockingQueue<>(MAX_QUEUED_RECORDS);
  private final Thread thread;
  private volatile boolean stopping;

  /** A record waiting to be sent; {@code abandoned} says its write has already failed. */
  private record Outgoing(ProducerRecord<byte[], byte[]> record, Callback callback, BooleanSupplier abandoned) {}

  /**
   * What the callback of a record dropped unsent gets: its {@code abandoned} said so when the send
   * thread took it. Without a stack trace: one instance, and no failure of this thread's.
   */
  static final Exception DROPPED = new KafkaException("dropped unsent: it could no longer reach the log in time") {
    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  };

  /** Put in the queue by {@link #close} so the send thread stops now, not after its poll timeout. */
  private static final Outgoing STOP = new Outgoing(null, null, () -> true);

  /** @param producer the cache's {@link KafkaProducer}; tests pass a {@code MockProducer} */
  Sender(String name, Producer<byte[], byte[]> producer) {
    this.name = name;
    this.producer = producer;
    this.thread = new Thread(this::run, "cachet-send-" + name);
  }

  void start() {
    Threads.start(thread);
  }

  /**
   * Queues {@code record}; {@code callback} gets the producer's outcome (or the failure of the send
   * call itself, or {@link #DROPPED} when {@code abandoned} says so as the send thread takes it).
   * Returns {@code false}, without calling {@code callback}, when the queue is full or the sender is
   * closed; records still queued when it closes get no callback.
   */
  boolean offer(ProducerRecord<byte[], byte[]> record, Callback callback, BooleanSupplier abandoned) {
    return !stopping && queue.offer(new Outgoing(record, callback, abandoned));
  }

  /** Returns how many records wait for the send thread. */
  int queued() {
    return queue.size();
  }

  private void run() {
    while (!stopping) {
      Outgoing next;
      try {
        next = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (next == STOP) {
        return;
      }
      if (next == null) {
        continue;
      }
      if (next.abandoned().getAsBoolean()) {
        complete(next, DROPPED);
        continue;
      }
      try {
        producer.send(next.record(), next.callback());
      } catch (RuntimeException e) {
        // Metadata or buffer space did not come within max.block.ms, or the producer was closed.
        complete(next, e);
      } catch (Error e) {
        // Out of memory, say: this thread must go on, or every later write would wait for nothing.
        LOG.error("Cache '{}': sending a record to Kafka failed", name, e);
        complete(next, new KafkaException("sending the record failed: " + e, e));
      }
    }
  }

  private void complete(Outgoing outgoing, Exception failure) {
    try {
      outgoing.callback().onCompletion(null, failure);
    } catch (Throwable callbackFailure) { // an Error too: this thread must go on, as in run()
      LOG.warn("Cache '{}': a send callback failed", name, callbackFailure);
    }
  }

  /**
   * Stops the send thread and closes the producer, giving it 5 s to deliver what it holds; records
   * still queued are dropped (their writes fail when the cache fails its waiting writes).
   */
  void close() {
    stopping = true;
    // Wakes the send thread from its wait for a record; when the queue is full it is not waiting.
    queue.offer(STOP);
    try {
      // Also wakes a send blocked on metadata.
      producer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.debug("Closing the producer of cache '{}' failed", name, e);
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    queue.clear();
  }
}
