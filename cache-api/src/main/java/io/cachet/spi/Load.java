package io.cachet.spi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One load or reload in flight in an {@link AbstractCache}: who runs it, for recursion detection
 * (a reload's runner is known once it starts on the executor), what overtook it, and its outcome.
 */
final class Load<V> {

  /** {@link #owner} of a reload a caller took over before it started; never run. */
  private static final Thread CLAIMED = new Thread("claimed reload");
  private static final VarHandle OWNER;

  static {
    try {
      OWNER = MethodHandles.lookup().findVarHandle(Load.class, "owner", Thread.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile @Nullable Thread owner;
  /** Set when the key was removed or the cache cleared while this load ran. */
  volatile boolean removed;
  /** Set when the key was written on request while this load ran. */
  volatile boolean written;
  /** Set by the load's own thread when it hands its value to the backend to store. */
  boolean stored;
  /** For a reload: the ticker reading when it was handed to the executor (published by the map). */
  long queuedAt;
  final CompletableFuture<@Nullable V> future = new CompletableFuture<>();

  Load(@Nullable Thread owner) {
    this.owner = owner;
  }

  @Nullable Thread owner() {
    return owner;
  }

  /** Starts a queued reload on {@code thread}; false if a caller took it over first ({@link #claim}). */
  boolean start(Thread thread) {
    return OWNER.compareAndSet(this, null, thread);
  }

  /**
   * Takes over a queued reload that has not started: it will never run its loader, and the callers
   * waiting for it load afresh, as after a removal. Returns whether it did; false if it started.
   * The compare-and-set alone makes the load void ({@link #isVoid}), so no caller can see it
   * taken over and yet wait for it as for a value.
   */
  boolean claim() {
    if (!OWNER.compareAndSet(this, null, CLAIMED)) {
      return false;
    }
    future.complete(null);
    return true;
  }

  /**
   * Completes this load for its waiters, if nothing has, with a failure saying that it ended
   * without an outcome ({@code what} of key {@code key} in cache {@code cacheName}): the last word
   * of every load, which builds the exception only when it is needed (a key whose {@code toString}
   * throws is named by its class, see {@link #describe}).
   */
  void endUnfinished(String what, Object key, String cacheName) {
    if (!future.isDone()) {
      future.completeExceptionally(new io.cachet.CacheLoadException(
          what + " of key '" + describe(key) + "' in cache '" + cacheName + "' ended without an outcome", null));
    }
  }

  /**
   * {@code key}'s text for a message; its class's name when its {@code toString} fails, whatever
   * it throws (a checked exception thrown around the compiler, a stack overflow of a key whose text
   * includes itself) but a lack of memory, so that no message keeps a load from ending.
   */
  static String describe(Object key) {
    try {
      return String.valueOf(key);
    } catch (Throwable e) {
      if (e instanceof VirtualMachineError error && !(e instanceof StackOverflowError)) {
        throw error;
      }
      return "(a " + key.getClass().getName() + " whose toString() failed)";
    }
  }

  /** Whether this load ended with a failure or without a value (the loader returned none). */
  boolean failedOrFoundNothing() {
    return future.isDone() && (future.isCompletedExceptionally() || future.join() == null) && owner != CLAIMED;
  }

  /**
   * Whether this load's outcome is for no one to take as the key's value: a removal overtook it,
   * or it is a reload taken over before it started.
   */
  boolean isVoid() {
    return removed || owner == CLAIMED;
  }
}
