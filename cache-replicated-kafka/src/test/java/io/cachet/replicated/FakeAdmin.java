package io.cachet.replicated;

import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;

/** An admin client for tests without a broker: counts its closes, and fails every other call. */
final class FakeAdmin {

  private FakeAdmin() {}

  /** Returns an admin client counting its {@code close} calls in {@code closes}, throwing {@code failure} otherwise. */
  static Admin of(AtomicInteger closes, Supplier<? extends Throwable> failure) {
    return (Admin) Proxy.newProxyInstance(Admin.class.getClassLoader(), new Class<?>[] {Admin.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "close" -> {
            closes.incrementAndGet();
            yield null;
          }
          case "toString" -> "fake admin";
          default -> throw failure.get();
        });
  }
}
