package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * Measures replication lag between two nodes, for {@code benchmarks/scripts/cluster-bench.sh}:
 * writes a fresh key on node A ({@code POST}, answered once A has applied it), then reads it on
 * node B in a tight loop until B returns the new value; the lag is the time from A's 201 to B's
 * first 200. Also reports A's write latency. Usage:
 * {@code java -cp cluster.jar io.cachet.examples.cluster.LagProbe WRITER_URL READER_URL [SAMPLES]}.
 * A benchmark tool, not part of the cluster.
 */
public final class LagProbe {

  private LagProbe() {}

  /** Runs the probe and prints one line of results. */
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: LagProbe WRITER_URL READER_URL [SAMPLES]");
      System.exit(2);
    }
    String writer = args[0];
    String reader = args[1];
    int samples = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    long[] lags = new long[samples];
    long[] writes = new long[samples];
    String run = Long.toHexString(System.nanoTime());
    for (int i = -50; i < samples; i++) { // 50 warm-up rounds
      String key = "lag-" + run + "-" + (i + 50);
      String value = "{\"i\":" + i + "}";
      long start = System.nanoTime();
      HttpResponse<String> written = http.send(HttpRequest.newBuilder(URI.create(writer + "/api/cache/" + key))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(value, UTF_8)).build(), HttpResponse.BodyHandlers.ofString());
      long acked = System.nanoTime();
      if (written.statusCode() != 201) {
        throw new IOException("write answered " + written.statusCode() + ": " + written.body());
      }
      HttpRequest read = HttpRequest.newBuilder(URI.create(reader + "/api/cache/" + key)).GET().build();
      long deadline = acked + Duration.ofSeconds(10).toNanos();
      while (true) {
        HttpResponse<String> response = http.send(read, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          break;
        }
        if (System.nanoTime() - deadline > 0) {
          throw new IOException(key + " not visible on " + reader + " within 10 s");
        }
      }
      long seen = System.nanoTime();
      if (i >= 0) {
        lags[i] = seen - acked;
        writes[i] = acked - start;
      }
    }
    Arrays.sort(lags);
    Arrays.sort(writes);
    System.out.println(String.format(Locale.ROOT,
        "samples=%d lag_p50_ms=%.2f lag_p99_ms=%.2f lag_max_ms=%.2f write_p50_ms=%.2f write_p99_ms=%.2f",
        samples, ms(lags, 0.50), ms(lags, 0.99), lags[samples - 1] / 1e6, ms(writes, 0.50), ms(writes, 0.99)));
  }

  private static double ms(long[] sorted, double quantile) {
    int index = (int) Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1);
    return sorted[Math.max(0, index)] / 1e6;
  }
}
