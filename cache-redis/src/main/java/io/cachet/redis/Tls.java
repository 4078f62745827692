package io.cachet.redis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Locale;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * The TLS material of one client, loaded once from {@link RedisOptions} and given both to Redisson
 * and to the invalidation connections, so every connection trusts the same servers and presents
 * the same client certificate.
 *
 * @param trust verifies servers; null for the JVM's default
 * @param keys this client's certificate for mutual TLS; null for none
 * @param sockets the factory the invalidation connections use
 */
record Tls(@Nullable TrustManagerFactory trust, @Nullable KeyManagerFactory keys, SSLSocketFactory sockets) {

  /**
   * Loads the stores named by {@code options}; null when the address does not use TLS.
   *
   * @throws IllegalArgumentException naming the store that cannot be read or opened
   */
  static @Nullable Tls load(RedisOptions options) {
    if (!options.parsedAddress().tls()) {
      return null;
    }
    try {
      TrustManagerFactory trust = null;
      if (options.trustStore().isPresent()) {
        trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store("trustStore", options.trustStore().get(), options.trustStorePassword().orElse(null)));
      }
      KeyManagerFactory keys = null;
      if (options.keyStore().isPresent()) {
        char[] password = options.keyStorePassword().map(String::toCharArray).orElse(new char[0]);
        keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store("keyStore", options.keyStore().get(), options.keyStorePassword().orElse(null)), password);
      }
      if (trust == null && keys == null) {
        return new Tls(null, null, (SSLSocketFactory) SSLSocketFactory.getDefault());
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
      return new Tls(trust, keys, context.getSocketFactory());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS for " + options.address() + ": " + e.getMessage(), e);
    }
  }

  private static KeyStore store(String option, Path file, @Nullable String password) {
    String type = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jks") ? "JKS" : "PKCS12";
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore store = KeyStore.getInstance(type);
      store.load(in, password == null ? null : password.toCharArray());
      return store;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(option + " " + file + " cannot be opened as " + type + ": " + e.getMessage(), e);
    }
  }
}
