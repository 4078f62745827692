package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
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
 * <p>Each registration has its own queue, a chain of futures run on the executor, so a listener
 * sees the events of one key in the order the changes happened and never runs concurrently with
 * itself. Events are enqueued while the changed key's lock is held (which fixes their order) and
 * delivered afterwards; a synchronous listener's futures are collected in a {@link Pending} that
 * the operation awaits after releasing the lock, so listener code never runs under a cache lock
 * (unless the executor runs tasks inline). The filter runs on the delivering thread too.
 *
 * <p>A synchronous listener that throws fails the operation that caused the event, after the
 * change was made: the exception reaches the caller as a {@link CacheEntryListenerException}
 * (errors as they are). An asynchronous listener that throws is logged at WARN.
 */
final class EventDispatcher<K, V> {

  private static final Logger log = LoggerFactory.getLogger(EventDispatcher.class);

  private final String cacheName;
  private final Executor executor;
  private final CopyOnWriteArrayList<Registration<K, V>> registrations = new CopyOnWriteArrayList<>();

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
    Factory<CacheEntryEventFilter<? super K, ? super V>> filterFactory =
        configuration.getCacheEntryEventFilterFactory();
    CacheEntryEventFilter<? super K, ? super V> filter =
        filterFactory == null ? null : filterFactory.create();
    registrations.add(new Registration<>(cacheName, configuration, listener, filter));
  }

  /** Stops delivering to the listener of {@code configuration}; returns whether it was registered. */
  boolean deregister(CacheEntryListenerConfiguration<K, V> configuration) {
    return registrations.removeIf(r -> r.configuration.equals(configuration));
  }

  /** Returns the current registrations, to close their listeners. */
  List<Registration<K, V>> registrations() {
    return List.copyOf(registrations);
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

  /** Enqueues an event for every listener that takes its type. */
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
      CompletableFuture<Void> delivery = registration.enqueue(event, executor);
      if (registration.configuration.isSynchronous()) {
        pending.add(delivery);
      }
    }
  }

  /** One registered listener, its filter and its delivery queue. */
  static final class Registration<K, V> {

    final CacheEntryListenerConfiguration<K, V> configuration;
    final CacheEntryListener<? super K, ? super V> listener;
    final @Nullable CacheEntryEventFilter<? super K, ? super V> filter;
    private final String cacheName;
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

    Registration(
        String cacheName,
        CacheEntryListenerConfiguration<K, V> configuration,
        CacheEntryListener<? super K, ? super V> listener,
        @Nullable CacheEntryEventFilter<? super K, ? super V> filter) {
      this.cacheName = cacheName;
      this.configuration = configuration;
      this.listener = listener;
      this.filter = filter;
    }

    boolean accepts(EventType type) {
      return switch (type) {
        case CREATED -> listener instanceof CacheEntryCreatedListener;
        case UPDATED -> listener instanceof CacheEntryUpdatedListener;
        case REMOVED -> listener instanceof CacheEntryRemovedListener;
        case EXPIRED -> listener instanceof CacheEntryExpiredListener;
      };
    }

    synchronized CompletableFuture<Void> enqueue(CachetEntryEvent<K, V> event, Executor executor) {
      // handle(): a failed delivery must not stop the ones after it.
      CompletableFuture<Void> next =
          tail.handle((ignored, failure) -> null).thenRunAsync(() -> deliver(event), executor);
      tail = next;
      return next;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void deliver(CachetEntryEvent<K, V> event) {
      try {
        if (filter != null && !filter.evaluate((CacheEntryEvent) event)) {
          return;
        }
        Iterable events = List.of(event);
        switch (event.getEventType()) {
          case CREATED -> ((CacheEntryCreatedListener) listener).onCreated(events);
          case UPDATED -> ((CacheEntryUpdatedListener) listener).onUpdated(events);
          case REMOVED -> ((CacheEntryRemovedListener) listener).onRemoved(events);
          case EXPIRED -> ((CacheEntryExpiredListener) listener).onExpired(events);
        }
      } catch (RuntimeException | Error e) {
        if (configuration.isSynchronous()) {
          throw e;
        }
        log.warn(
            "Asynchronous listener {} of cache '{}' threw on a {} event",
            listener.getClass().getName(), cacheName, event.getEventType(), e);
      }
    }
  }

  /** The deliveries to synchronous listeners that one operation must wait for. Not thread-safe. */
  static final class Pending {

    private @Nullable List<CompletableFuture<Void>> deliveries;

    void add(CompletableFuture<Void> delivery) {
      if (deliveries == null) {
        deliveries = new ArrayList<>(2);
      }
      deliveries.add(delivery);
    }

    /**
     * Waits for every delivery; rethrows the first listener failure as a
     * {@link CacheEntryListenerException} (an {@link Error} as it is).
     */
    void await() {
      List<CompletableFuture<Void>> waiting = deliveries;
      if (waiting == null) {
        return;
      }
      deliveries = null;
      Throwable failure = null;
      for (CompletableFuture<Void> delivery : waiting) {
        try {
          delivery.join();
        } catch (CompletionException | CancellationException e) {
          if (failure == null) {
            failure = e.getCause() != null ? e.getCause() : e;
          }
        }
      }
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
  }
}
