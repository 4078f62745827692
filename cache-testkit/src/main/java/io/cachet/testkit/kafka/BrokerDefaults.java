package io.cachet.testkit.kafka;

import java.util.Map;

/** Broker settings both test brokers share: one node, so every replication factor is 1. */
final class BrokerDefaults {
    /** Settings a single-node test cluster needs, or that make it start and rebalance faster. */
    static final Map<String, String> SINGLE_NODE = Map.of(
            "offsets.topic.replication.factor", "1",
            "offsets.topic.num.partitions", "1",
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1",
            "transaction.state.log.num.partitions", "1",
            "share.coordinator.state.topic.replication.factor", "1",
            "share.coordinator.state.topic.min.isr", "1",
            "min.insync.replicas", "1",
            "group.initial.rebalance.delay.ms", "0",
            "auto.create.topics.enable", "true");

    private BrokerDefaults() {}
}
