package io.cachet.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Node;
import org.junit.jupiter.api.Test;

@WithKafka
final class InJvmKafkaBrokerIT {

    @Test
    void start_advertisesLoopback(KafkaBroker kafka) throws Exception {
        assertThat(kafka).isInstanceOf(InJvmKafkaBroker.class);
        assertThat(kafka.isRunning()).isTrue();
        assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
                    .extracting(Node::host)
                    .containsExactly("127.0.0.1");
        }
    }

    @Test
    void send_thenConsumedFromStart(InJvmKafkaBroker kafka) throws Exception {
        KafkaClients.createTopic(kafka, "in-jvm");

        KafkaClients.send(kafka, "in-jvm", "k", "v");
        List<ConsumerRecord<String, String>> records = KafkaClients.readFromStart(kafka, "in-jvm", 1);

        assertThat(records).singleElement().satisfies(record -> {
            assertThat(record.key()).isEqualTo("k");
            assertThat(record.value()).isEqualTo("v");
        });
    }
}
