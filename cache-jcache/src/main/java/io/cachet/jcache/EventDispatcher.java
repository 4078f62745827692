package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Factory;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryEventFilter;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.event.CacheEntryListener;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.event.EventType;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a cache's entry events to its registered listeners. Thread-safe.
 *
 * <p>Design notes. Each registration has a FIFO queue of deliveries and at most one thread
 * draining it (its <em>drainer</em>), so a listener sees the events of a key in the order the
 * changes happened and never runs concurrently with itself. Events are enqueued while the changed
 * key's lock is held, which fixes their order; nothing else happens under that lock. After
 * releasing its locks the operation {@linkplain Pending#finish() finishes}:
 *
 * <ul>
 *   <li>for an asynchronous listener it makes sure a drain task runs on the event executor (which
 *       may be {@code Runnable::run}: the task then runs on the calling thread, lock-free);
 *   <li>for a synchronous listener it delivers the events itself when nobody is draining that
 *       listener's queue, or else waits for the thread that is. Synchronous deliveries therefore
 *       never depend on an executor thread being free: a small or same-thread executor cannot
 *       hang them.
 * </ul>
 *
 * <p>A drainer delivers in queue order until its own deliveries are done, then hands over to the
 * next waiting owner; deliveries nobody waits for it delivers as well, so none is left behind.
 *
 * <p>Re-entrance. A thread inside a listener or filter call (of any cache) never waits for another
 * drainer: a listener that writes to a cache whose synchronous listener is being delivered to (by
 * this thread, as when a listener writes to its own cache, or by another thread that may be waiting
 * for this one) leaves the new event to that drainer, which delivers it, in order, after the
 * current call returns. Everywhere else the call that caused an event returns after its
 * synchronous listeners have seen it.
 *
 * <p>Deregistration queues no more events for the listener; those queued already are delivered,
 * and then the listener and its filter are closed (if {@link java.io.Closeable}) by whoever
 * drains the last of them, after its last call, or at once if none is queued or being delivered.
 * When the cache closes first, its shutdown closes them. Either way they are closed exactly once.
 *
 * <p>A synchronous listener that throws fails the operation that caused the event, after the
 * change was made: the exception reaches the caller as a {@link CacheEntryListenerException}
 * (errors as they are). An asynchronous listener that throws, or a synchronous one whose event
 * nobody waits for, is logged at WARN.
 */
final class EventDispatcher<K, V> {

  private static final Logger log = LoggerFactory.getLogger(EventDispatcher.class);

  /** The dispatchers whose listener or filter the current thread is calling, innermost last. */
  private static final ThreadLocal<ArrayList<EventDispatcher<?, ?>>> DELIVERING =
      ThreadLocal.withInitial(() -> new ArrayList<>(2));

  private final String cacheName;
  private final Executor executor;
  private final CopyOnWriteArrayList<Registration<K, V>> registrations = new CopyOnWriteArrayList<>();
  /** Deregistered, with their listeners not closed yet: the cache's shutdown closes them too. */
  private final Set<Registration<?, ?>> retiring = ConcurrentHashMap.newKeySet();

  EventDispatcher(String cacheName, Executor executor) {
    this.cacheName = cacheName;
    this.executor = executor;
  }

  /** Creates the listener (and filter) of {@code configuration} and starts delivering to it. */
  void register(CacheEntryListenerConfiguration<K, V> configuration) {
    Factory<CacheEntryListener<? super K, ? super V>> listenerFactory =
        configuration.getCacheEntryListenerFactory();
    if (listenerFactory == null) {
      throw new IllegalArgumentException(
          "the listener configuration for cache '" + cacheName + "' has no listener factory");
    }
    CacheEntryListener<? super K, ? super V> listener =
        requireNonNull(listenerFactory.create(), "the listener factory returned null");
    CacheEntryEventFilter<? super K, ? super V> filter = null;
    try {
      Factory<CacheEntryEventFilter<? super K, ? super V>> filterFactory =
          configuration.getCacheEntryEventFilterFactory();
      filter = filterFactory == null ? null : filterFactory.create();
      registrations.add(new Registration<>(this, cacheName, configuration, listener, filter, executor, retiring));
    } catch (RuntimeException | Error e) {
      // Not registered: nobody else would ever close what was created for it.
      CacheControl.closeQuietly(cacheName, listener);
      CacheControl.closeQuietly(cacheName, filter);
      throw e;
    }
  }

  /**
   * Stops publishing to the listener of {@code configuration}; returns its registration, whose
   * {@link Registration#deregister()} the caller calls next (holding no lock: it may close the
   * listener), or null if it was not registered.
   */
  @Nullable Registration<K, V> deregister(CacheEntryListenerConfiguration<K, V> configuration) {
    for (Registration<K, V> registration : registrations) {
      if (registration.configuration.equals(configuration) && registrations.remove(registration)) {
        retiring.add(registration);
        return registration;
      }
    }
    return null;
  }

  /** Returns the registrations whose listeners are not closed yet, deregistered ones included. */
  List<Registration<?, ?>> registrations() {
    List<Registration<?, ?>> all = new ArrayList<>(registrations);
    all.addAll(retiring);
    return all;
  }

  /** Returns whether any listener wants events of {@code type}. */
  boolean wants(EventType type) {
    for (Registration<K, V> registration : registrations) {
      if (registration.accepts(type)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Enqueues an event for every listener that takes its type; called under the key's lock. The
   * events are delivered when {@code pending} is finished.
   */
  void publish(
      Cache<K, V> source, EventType type, K key, @Nullable V value, @Nullable V oldValue,
      Pending pending) {
    CachetEntryEvent<K, V> event = null;
    for (Registration<K, V> registration : registrations) {
      if (!registration.accepts(type)) {
        continue;
      }
      if (event == null) {
        event = new CachetEntryEvent<>(source, type, key, value, oldValue, type != EventType.CREATED);
      }
      pending.add(registration, registration.enqueue(event));
    }
  }

  /** Returns whether the current thread is inside a listener or filter call. */
  static boolean insideDelivery() {
    return !DELIVERING.get().isEmpty();
  }

  /** Returns whether the current thread is inside a listener or filter call of {@code dispatcher}. */
  static boolean deliveringFor(EventDispatcher<?, ?> dispatcher) {
    for (EventDispatcher<?, ?> delivering : DELIVERING.get()) {
      if (delivering == dispatcher) {
        return true;
      }
    }
    return false;
  }

  /** One event on its way to one listener. Guarded by its registration. */
  static final class Delivery {
    private final CachetEntryEvent<?, ?> event;
    private boolean done;
    private @Nullable Throwable failure;
    /** Its owner waits for it, and will drain the queue itself when nobody else does. */
    private boolean awaited;
    /** Its owner will not look at it: a failure is logged by whoever delivers it. */
    private boolean abandoned;

    private Delivery(CachetEntryEvent<?, ?> event) {
      this.event = event;
    }
  }

  /** One registered listener, its filter and its delivery queue. */
  static final class Registration<K, V> {

    final CacheEntryListenerConfiguration<K, V> configuration;
    final CacheEntryListener<? super K, ? super V> listener;
    final @Nullable CacheEntryEventFilter<? super K, ? super V> filter;
    private final boolean synchronous;
    private final String cacheName;
    private final Executor executor;
    private final ArrayDeque<Delivery> queue = new ArrayDeque<>(); // guarded by this
    private @Nullable Thread drainer; // guarded by this
    private boolean scheduled; // guarded by this: a drain task was handed to the executor
    /** Set when the cache closes: what is still queued is dropped, the listener is closed after. */
    private volatile boolean closed;
    /** Set by deregistration: nothing more is queued; once the queue is drained, the listener is closed. */
    private boolean deregistered; // guarded by this
    private boolean listenerClosed; // guarded by this: the listener and filter are closed, or being closed
    private final Set<Registration<?, ?>> retiring;
    private final EventDispatcher<K, V> owner;

    Registration(
        EventDispatcher<K, V> owner,
        String cacheName,
        CacheEntryListenerConfiguration<K, V> configuration,
        CacheEntryListener<? super K, ? super V> listener,
        @Nullable CacheEntryEventFilter<? super K, ? super V> filter,
        Executor executor,
        Set<Registration<?, ?>> retiring) {
      this.owner = owner;
      this.cacheName = cacheName;
      this.retiring = retiring;
      this.configuration = configuration;
      this.synchronous = configuration.isSynchronous();
      this.listener = listener;
      this.filter = filter;
      this.executor = executor;
    }

    boolean accepts(EventType type) {
      return switch (type) {
        case CREATED -> listener instanceof CacheEntryCreatedListener;
        case UPDATED -> listener instanceof CacheEntryUpdatedListener;
        case REMOVED -> listener instanceof CacheEntryRemovedListener;
        case EXPIRED -> listener instanceof CacheEntryExpiredListener;
      };
    }

    /**
     * Stops deliveries and closes the listener and filter: events still queued are dropped, and one
     * being delivered on another thread is waited for (at most {@code maxWaitMillis}), so that the
     * listener is closed after its last call. A delivery on the calling thread (a listener closing
     * its cache) is not waited for.
     */
    void close(long maxWaitMillis) {
      closed = true;
      boolean interrupted = false;
      synchronized (this) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
        while (drainer != null && drainer != Thread.currentThread()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(this, left);
          } catch (InterruptedException e) {
            interrupted = true;
            break;
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      closeListener();
    }

    /**
     * Queues no more events, and closes the listener and filter after the events queued already
     * were delivered: here if none is queued or being delivered, else by the thread that drains
     * the last of them. A listener deregistering itself is closed once its call returns.
     */
    void deregister() {
      synchronized (this) {
        deregistered = true;
        if (drainer != null || !queue.isEmpty()) {
          return; // closed when released, with the queue empty (see release)
        }
      }
      closeListener();
    }

    /** Closes the listener and the filter, if {@link AutoCloseable}, the first time only. */
    private void closeListener() {
      synchronized (this) {
        if (listenerClosed) {
          return;
        }
        listenerClosed = true;
      }
      retiring.remove(this);
      CacheControl.closeQuietly(cacheName, listener);
      CacheControl.closeQuietly(cacheName, filter);
    }

    private synchronized Delivery enqueue(CachetEntryEvent<K, V> event) {
      Delivery delivery = new Delivery(event);
      if (deregistered) {
        delivery.done = true; // deregistered since the publisher looked: the listener gets no more
      } else {
        queue.add(delivery);
      }
      return delivery;
    }

    /** Asynchronous listeners: makes sure a drain task runs on the executor. */
    private void schedule() {
      synchronized (this) {
        if (drainer != null || scheduled || queue.isEmpty()) {
          return; // the current drainer, or the task already handed over, delivers what was queued
        }
        scheduled = true;
      }
      try {
        executor.execute(this::drainTask);
      } catch (RejectedExecutionException e) {
        log.warn(
            "The event executor of cache '{}' rejected a delivery to {}; delivering on the calling thread",
            cacheName, listener.getClass().getName(), e);
        drainTask();
      }
    }

    private void drainTask() {
      synchronized (this) {
        scheduled = false;
        if (drainer != null) {
          return;
        }
        drainer = Thread.currentThread();
      }
      drain(null);
    }

    /**
     * Synchronous listeners: returns once {@code delivery} was delivered, by this thread if nobody
     * else is draining, with its failure (null if none).
     */
    private @Nullable Throwable await(Delivery delivery) {
      boolean interrupted = false;
      try {
        synchronized (this) {
          if (drainer == Thread.currentThread()) {
            delivery.abandoned = true; // delivered by this thread's drain loop once it resumes
            return null;
          }
          delivery.awaited = true;
          while (!delivery.done && drainer != null) {
            try {
              wait();
            } catch (InterruptedException e) {
              interrupted = true; // a synchronous listener is delivered to all the same
            }
          }
          if (delivery.done) {
            return delivery.failure;
          }
          drainer = Thread.currentThread();
        }
        drain(delivery);
        synchronized (this) {
          return delivery.failure;
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /**
     * Synchronous listeners, from a thread that must not wait: delivers {@code delivery} here when
     * nobody is draining, and otherwise leaves it to the drainer. Returns its failure when it was
     * delivered here (or before), else null.
     */
    private @Nullable Throwable deliverWithoutWaiting(Delivery delivery) {
      synchronized (this) {
        if (delivery.done) {
          return delivery.failure;
        }
        if (drainer != null) {
          delivery.abandoned = true;
          return null;
        }
        drainer = Thread.currentThread();
      }
      drain(delivery);
      synchronized (this) {
        return delivery.failure;
      }
    }

    /**
     * Delivers queued events in order, as this registration's drainer, until {@code own} (if any)
     * is done and the next delivery's owner is waiting to drain it, or the queue is empty.
     */
    private void drain(@Nullable Delivery own) {
      boolean released = false;
      boolean closeListener = false;
      try {
        while (true) {
          Delivery next;
          synchronized (this) {
            next = queue.peek();
            if (next == null || ((own == null || own.done) && next.awaited)) {
              closeListener = release();
              released = true;
              return;
            }
            queue.poll();
          }
          Throwable failure = deliver(next.event);
          synchronized (this) {
            next.done = true;
            next.failure = failure;
            if (failure != null && (!synchronous || next.abandoned)) {
              logFailure(next.event, failure);
            }
            notifyAll();
          }
        }
      } finally {
        if (!released) {
          synchronized (this) {
            closeListener = release();
          }
        }
        if (closeListener) {
          closeListener(); // deregistered, and this thread delivered the last event
        }
      }
    }

    /**
     * Stops draining, under this registration's lock; returns whether the caller must now close
     * the listener: it was deregistered and nothing is left to deliver.
     */
    private boolean release() {
      drainer = null;
      notifyAll();
      return deregistered && queue.isEmpty();
    }

    private void logFailure(CachetEntryEvent<?, ?> event, Throwable failure) {
      log.warn(
          "{} listener {} of cache '{}' threw on a {} event",
          synchronous ? "Synchronous" : "Asynchronous",
          listener.getClass().getName(), cacheName, event.getEventType(), failure);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private @Nullable Throwable deliver(CachetEntryEvent<?, ?> event) {
      ArrayList<EventDispatcher<?, ?>> delivering = DELIVERING.get();
      delivering.add(owner);
      try {
        if (closed) {
          return null; // the cache closed: its listener is (being) closed and gets nothing more
        }
        if (filter != null && !filter.evaluate((CacheEntryEvent) event)) {
          return null;
        }
        Iterable events = List.of(event);
        switch (event.getEventType()) {
          case CREATED -> ((CacheEntryCreatedListener) listener).onCreated(events);
          case UPDATED -> ((CacheEntryUpdatedListener) listener).onUpdated(events);
          case REMOVED -> ((CacheEntryRemovedListener) listener).onRemoved(events);
          case EXPIRED -> ((CacheEntryExpiredListener) listener).onExpired(events);
        }
        return null;
      } catch (Throwable t) {
        return t;
      } finally {
        delivering.remove(delivering.size() - 1);
      }
    }
  }

  /**
   * The events one operation published, delivered when it {@linkplain #finish() finishes}, after
   * releasing its locks. Not thread-safe.
   */
  static final class Pending {

    private @Nullable List<Registration<?, ?>> registrations;
    private @Nullable List<Delivery> deliveries;

    private void add(Registration<?, ?> registration, Delivery delivery) {
      if (registrations == null || deliveries == null) {
        registrations = new ArrayList<>(2);
        deliveries = new ArrayList<>(2);
      }
      registrations.add(registration);
      deliveries.add(delivery);
    }

    /**
     * Delivers the events; returns once every synchronous listener has seen its event (see the
     * class comment for the one exception, inside a listener call).
     *
     * @throws CacheEntryListenerException if a synchronous listener threw (an {@link Error} is
     *     rethrown as it is)
     */
    void finish() {
      Throwable failure = deliver(!insideDelivery());
      if (failure instanceof Error error) {
        throw error;
      }
      if (failure instanceof CacheEntryListenerException listenerFailure) {
        throw listenerFailure;
      }
      if (failure != null) {
        throw new CacheEntryListenerException("a synchronous cache entry listener failed: " + failure, failure);
      }
    }

    /**
     * Delivers the events without ever waiting for another thread, for callers nobody waits for
     * (backend notices, {@code loadAll} tasks); returns the first failure of a synchronous listener
     * delivered here, or null.
     */
    @Nullable Throwable finishWithoutWaiting() {
      return deliver(false);
    }

    /** Delivers the events of an operation that is failing with {@code cause}; never throws. */
    void finishAfter(Throwable cause) {
      try {
        Throwable failure = deliver(!insideDelivery());
        if (failure != null && failure != cause) {
          cause.addSuppressed(failure);
        }
      } catch (RuntimeException | Error e) {
        cause.addSuppressed(e);
      }
    }

    private @Nullable Throwable deliver(boolean mayWait) {
      List<Registration<?, ?>> targets = registrations;
      List<Delivery> waiting = deliveries;
      if (targets == null || waiting == null) {
        return null;
      }
      registrations = null;
      deliveries = null;
      Throwable first = null;
      for (int i = 0; i < targets.size(); i++) {
        Registration<?, ?> registration = targets.get(i);
        if (!registration.synchronous) {
          registration.schedule();
          continue;
        }
        Delivery delivery = waiting.get(i);
        Throwable failure =
            mayWait ? registration.await(delivery) : registration.deliverWithoutWaiting(delivery);
        if (first == null) {
          first = failure;
        }
      }
      return first;
    }
  }
}
