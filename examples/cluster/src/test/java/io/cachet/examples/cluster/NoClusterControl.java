package io.cachet.examples.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A balancer's control with no launcher behind it, for tests: the status queries answer
 * {@code {}} and every action fails; subclasses override what a test needs.
 */
class NoClusterControl implements ClusterControl {

  @Override
  public String nodesJson() {
    return "{}";
  }

  @Override
  public String kafkaJson() {
    return "{}";
  }

  @Override
  public CompletionStage<ApiResponse> killNode(int n) {
    return CompletableFuture.failedFuture(new UnsupportedOperationException());
  }

  @Override
  public CompletionStage<ApiResponse> stopNode(int n) {
    return killNode(n);
  }

  @Override
  public CompletionStage<ApiResponse> startNode(int n) {
    return killNode(n);
  }

  @Override
  public CompletionStage<ApiResponse> killKafka() {
    return killNode(0);
  }

  @Override
  public CompletionStage<ApiResponse> startKafka() {
    return killNode(0);
  }
}
