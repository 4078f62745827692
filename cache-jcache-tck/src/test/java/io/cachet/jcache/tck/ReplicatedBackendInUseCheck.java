package io.cachet.jcache.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.replicated.ReplicatedCache;
import io.cachet.replicated.ReplicationOptions;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/**
 * Runs only in the {@code tck-replicated} execution (its name does not end in {@code Test}; that
 * execution includes it by name): checks that the TCK there really runs on the replicated backend,
 * i.e. that a cache created from a plain JCache configuration, under a name that is no Kafka topic
 * name, is replicated through the topic its name maps to on the broker {@link KafkaTckSession} started.
 */
final class ReplicatedBackendInUseCheck {

  @Test
  void plainJCacheConfiguration_getsTheReplicatedBackend_onTheMappedTopic() throws Exception {
    assertThat(KafkaTckSession.broker()).as("KafkaTckSession started a broker").isNotNull();
    CachingProvider provider = Caching.getCachingProvider();
    CacheManager manager =
        provider.getCacheManager(URI.create("urn:cachet:tck-replicated-check"), getClass().getClassLoader());
    String name = "replicated check@" + Integer.toHexString(hashCode());
    try {
      Cache<String, String> cache =
          manager.createCache(name, new MutableConfiguration<String, String>().setTypes(String.class, String.class));
      cache.put("k", "v");

      io.cachet.Cache<?, ?> cachet = cache.unwrap(io.cachet.Cache.class);
      assertThat(cachet.config().backend()).isEqualTo("replicated-kafka");
      String topic = cachet.unwrap(ReplicatedCache.class).status().topic();
      assertThat(topic).isEqualTo(ReplicationOptions.defaultTopicFor(name));
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
          KafkaTckSession.broker().bootstrapServers()))) {
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains(topic);
      }
      assertThat(cache.get("k")).isEqualTo("v");
      manager.destroyCache(name);
    } finally {
      manager.close();
    }
  }
}
