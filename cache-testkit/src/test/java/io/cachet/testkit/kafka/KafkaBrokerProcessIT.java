package io.cachet.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("kafka")
final class KafkaBrokerProcessIT {
    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.separateProcess();

    @Test
    void killThenStart_keepsAcknowledgedRecords() throws Exception {
        KafkaBrokerProcess kafka = KAFKA.process();
        String bootstrapServers = kafka.bootstrapServers();
        long pid = kafka.pid();
        KafkaClients.createTopic(kafka, "durable");
        KafkaClients.send(kafka, "durable", "before", "kill");

        kafka.kill();
        assertThat(kafka.isRunning()).isFalse();
        kafka.start();

        assertThat(kafka.bootstrapServers()).isEqualTo(bootstrapServers);
        assertThat(kafka.pid()).isNotEqualTo(pid);
        KafkaClients.send(kafka, "durable", "after", "restart");
        List<ConsumerRecord<String, String>> records = KafkaClients.readFromStart(kafka, "durable", 2);
        assertThat(records).extracting(ConsumerRecord::key).containsExactly("before", "after");
    }

    @Test
    void stop_isGracefulAndRestartable() {
        KafkaBrokerProcess kafka = KAFKA.process();

        kafka.stop();
        assertThat(kafka.isRunning()).isFalse();
        kafka.start();

        assertThat(kafka.isRunning()).isTrue();
    }
}
