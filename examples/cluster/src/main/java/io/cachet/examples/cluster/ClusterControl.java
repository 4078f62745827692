package io.cachet.examples.cluster;

import java.util.concurrent.CompletionStage;

/**
 * What the balancer's {@code /admin} endpoints and the launcher's console commands act on. Node
 * numbers start at 1. Operations that wait (starting Kafka) complete their stage later; none
 * blocks the caller. The balancer calls {@link #nodesJson()} and {@link #kafkaJson()} on an event
 * loop: they must return at once, even while an action is in progress.
 */
interface ClusterControl {

  /** {@code GET /admin/nodes}: the nodes as a JSON object. */
  String nodesJson();

  /** {@code POST /admin/nodes/{n}/kill}: SIGKILL node {@code n}. */
  CompletionStage<ApiResponse> killNode(int n);

  /** {@code POST /admin/nodes/{n}/stop}: SIGTERM node {@code n} and wait for it to exit. */
  CompletionStage<ApiResponse> stopNode(int n);

  /** {@code POST /admin/nodes/{n}/start}: start node {@code n} again (same id and port); answers once launched. */
  CompletionStage<ApiResponse> startNode(int n);

  /** {@code GET /admin/kafka}: the broker as a JSON object. */
  String kafkaJson();

  /** {@code POST /admin/kafka/kill}: SIGKILL the embedded broker. */
  CompletionStage<ApiResponse> killKafka();

  /** {@code POST /admin/kafka/start}: start the embedded broker again; answers once it is ready. */
  CompletionStage<ApiResponse> startKafka();
}
