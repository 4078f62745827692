package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.examples.support.HttpErrors;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The node's Netty pipeline over a {@code local} cache: framing, limits, order and headers on the wire. */
final class NodeHttpHandlerTest {

  private final LocalNodeCache local = new LocalNodeCache(100);
  private final NodeConfig config = NodeConfig.builder().nodeId("n7").maxBodyBytes("64").build();
  private final NodeMetrics metrics = new NodeMetrics(local::state);
  private final NodeApi api = new NodeApi(config, () -> local, metrics::scrape, InstantSource.system());

  @AfterEach
  void close() {
    local.close();
  }

  private EmbeddedChannel channel() {
    return new EmbeddedChannel(
        new HttpServerCodec(new HttpDecoderConfig()
            .setMaxInitialLineLength(HttpErrors.MAX_INITIAL_LINE)
            .setMaxHeaderSize(HttpErrors.MAX_HEADER_SIZE)),
        new BoundedAggregator(config.maxBodyBytes()),
        new NodeHttpHandler(api, metrics, config.nodeId()));
  }

  private static void write(EmbeddedChannel ch, String raw) {
    ch.writeInbound(Unpooled.copiedBuffer(raw, UTF_8));
  }

  private static String output(EmbeddedChannel ch) {
    ch.runPendingTasks();
    StringBuilder out = new StringBuilder();
    for (Object msg = ch.readOutbound(); msg != null; msg = ch.readOutbound()) {
      ByteBuf buf = (ByteBuf) msg;
      out.append(buf.toString(ISO_8859_1));
      buf.release();
    }
    return out.toString();
  }

  private static String post(String key, String body) {
    return "POST /api/cache/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(UTF_8).length + "\r\n\r\n" + body;
  }

  @Test
  void pipelinedRequests_areAnsweredInOrder_withTheNodeHeader() {
    EmbeddedChannel ch = channel();
    write(ch, post("a", "1") + "GET /api/cache/a HTTP/1.1\r\nHost: x\r\n\r\n"
        + "GET /api/cache/missing HTTP/1.1\r\nHost: x\r\n\r\n");
    String out = output(ch);
    int created = out.indexOf("HTTP/1.1 201 Created");
    int found = out.indexOf("HTTP/1.1 200 OK");
    int missing = out.indexOf("HTTP/1.1 404 Not Found");
    assertThat(created).isNotNegative().isLessThan(found);
    assertThat(found).isLessThan(missing);
    assertThat(out).contains("X-Cachet-Node: n7").contains("\"value\":1,");
    assertThat(ch.isActive()).isTrue();
  }

  @Test
  void bodyOverTheLimit_is413Json_andNothingIsStored() {
    EmbeddedChannel ch = channel();
    write(ch, post("big", "\"" + "x".repeat(100) + "\""));
    String out = output(ch);
    assertThat(out).startsWith("HTTP/1.1 413 Request Entity Too Large")
        .contains("{\"error\":\"PayloadTooLarge\",\"message\":\"the request body is limited to 64 bytes");
    assertThat(local.cache.get("big")).isNull();
  }

  @Test
  void bodyOverTheLimitWithExpectContinue_is413Json_withoutContinue() {
    EmbeddedChannel ch = channel();
    write(ch, "POST /api/cache/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
    String out = output(ch);
    assertThat(out).startsWith("HTTP/1.1 413").doesNotContain("100 Continue").contains("PayloadTooLarge");
  }

  @Test
  void malformedRequest_is400Json() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /api/cache/k HTTP/x.y\r\n\r\n");
    assertThat(output(ch)).startsWith("HTTP/1.1 400 Bad Request").contains("{\"error\":\"BadRequest\"");
  }

  @Test
  void connectionClose_isHonoured() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    String out = output(ch);
    assertThat(out).startsWith("HTTP/1.1 200 OK").contains("connection: close");
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void requests_areCountedByRouteAndStatus() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /api/cache/nope HTTP/1.1\r\nHost: x\r\n\r\n");
    output(ch);
    assertThat(metrics.scrape())
        .contains("cluster_requests_total{method=\"get\",route=\"api_cache\",status=\"404\"} 1.0")
        .contains("cluster_node_ready 1.0");
  }
}
