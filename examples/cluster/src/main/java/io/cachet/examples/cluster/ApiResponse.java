package io.cachet.examples.cluster;

import io.cachet.examples.support.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One HTTP answer of a node: status, body, content type and extra headers, and the route it is
 * counted under in {@code cluster_requests_total}.
 */
record ApiResponse(int status, String contentType, String body, Map<String, String> headers, String route) {

  static final String JSON = "application/json; charset=utf-8";
  static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  ApiResponse {
    headers = Map.copyOf(headers);
  }

  /** A JSON response without extra headers. */
  static ApiResponse json(String route, int status, String body) {
    return new ApiResponse(status, JSON, body, Map.of(), route);
  }

  /** A JSON error {@code {"error":..,"message":..}}. */
  static ApiResponse error(String route, int status, String error, String message) {
    return json(route, status, Json.error(error, message));
  }

  /** This response with one more header. */
  ApiResponse withHeader(String name, String value) {
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.put(name, value);
    return new ApiResponse(status, contentType, body, all, route);
  }
}
