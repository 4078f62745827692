package io.cachet.examples.cluster;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.examples.support.HttpErrors;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
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

  /**
   * Requests queued behind a write in flight: the connection stops taking requests once their
   * bodies reach 256 KiB, not only once 16 are queued (16 bodies of up to --max-body each).
   */
  @Test
  void requestsQueuedBehindAWriteInFlight_areBoundedByTheirBodiesBytes() {
    local.writeGate = new CompletableFuture<>(); // the first write never completes
    NodeConfig large = NodeConfig.builder().nodeId("n7").build();
    NodeHttpHandler handler = new NodeHttpHandler(new NodeApi(large, () -> local, metrics::scrape,
        InstantSource.system()), metrics, large.nodeId());
    EmbeddedChannel ch = new EmbeddedChannel(handler);
    String body = "\"" + "x".repeat(200 * 1024) + "\"";

    ch.writeInbound(jsonPost("in-flight", body));
    ch.writeInbound(jsonPost("queued-1", body));
    assertThat(handler.acceptingRequests(ch)).as("one 200 KiB body queued").isTrue();
    ch.writeInbound(jsonPost("queued-2", body));
    assertThat(handler.acceptingRequests(ch)).as("two queued, 400 KiB").isFalse();
    assertThat(ch.config().isAutoRead()).isFalse();

    local.writeGate.complete(null);
    ch.runPendingTasks();
    assertThat(handler.acceptingRequests(ch)).as("all answered").isTrue();
    ch.finishAndReleaseAll();
  }

  private static FullHttpRequest jsonPost(String key, String body) {
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/cache/" + key,
        Unpooled.copiedBuffer(body, UTF_8));
    request.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .set(HttpHeaderNames.CONTENT_LENGTH, request.content().readableBytes());
    return request;
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
  void unsupportedExpectation_is417Json_inOrder_andNothingIsStored() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
        + "POST /api/cache/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Expect: foo\r\nContent-Length: 3\r\n\r\n\"v\"");
    String out = output(ch);
    assertThat(out).startsWith("HTTP/1.1 200 OK");
    assertThat(out.substring(out.indexOf("HTTP/1.1", 1)))
        .startsWith("HTTP/1.1 417 Expectation Failed")
        .contains("{\"error\":\"ExpectationFailed\",\"message\":\"only 'Expect: 100-continue' is supported, got \\\"foo\\\"\"}");
    assertThat(local.cache.get("k")).isNull();
  }

  @Test
  void unsupportedHttpVersion_is505Json_andCloses() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /health/live HTTP/2.0\r\nHost: x\r\n\r\n");
    assertThat(output(ch)).startsWith("HTTP/1.1 505 HTTP Version Not Supported")
        .contains("{\"error\":\"HTTPVersionNotSupported\",\"message\":\"only HTTP/1.0 and HTTP/1.1 are supported,"
            + " was HTTP/2.0\"}");
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
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

  /** A pipeline as the server builds it, with {@code limits}. */
  private EmbeddedChannel serverChannel(ServerLimits limits) {
    return serverChannel(limits, new NodeHttpHandler(api, metrics, config.nodeId(), limits.maxPendingRequests()));
  }

  /** A pipeline as the server builds it, with {@code limits} and {@code handler}. */
  private EmbeddedChannel serverChannel(ServerLimits limits, NodeHttpHandler handler) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(
        limits.maxQueuedResponseBytes() / 2, limits.maxQueuedResponseBytes()));
    NettyTransport.initHttp(ch.pipeline(), config.maxBodyBytes(), limits, handler);
    return ch;
  }

  /**
   * Many small pipelined requests in one read while a write is in flight: the node decodes no
   * more of them than {@code --max-pending-requests}, the rest wait undecoded in the bytes already
   * read, and every one is answered, in order, once the write is.
   */
  @Test
  void smallPipelinedRequestsInOneRead_queueNoMoreThanTheBound() {
    ServerLimits limits = ServerLimits.defaults().withMaxPendingRequests("2").withIdleTimeout("0");
    NodeHttpHandler handler = new NodeHttpHandler(api, metrics, config.nodeId(), limits.maxPendingRequests());
    EmbeddedChannel ch = serverChannel(limits, handler);
    local.writeGate = new java.util.concurrent.CompletableFuture<>();
    write(ch, post("a", "1") + "GET /api/cache/a HTTP/1.1\r\n\r\n".repeat(3_000));
    ch.runPendingTasks();
    assertThat(handler.busy()).isTrue();
    assertThat(handler.queued()).as("requests queued behind the write in flight").isLessThanOrEqualTo(2);

    local.writeGate.complete(null);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 100 && count(out, "HTTP/1.1 200 OK") < 3_000; i++) {
      out.append(output(ch));
    }
    assertThat(out).startsWith("HTTP/1.1 201 Created");
    assertThat(count(out, "HTTP/1.1 200 OK")).isEqualTo(3_000);
    assertThat(count(out, "HTTP/1.1 ")).as("no other answer").isEqualTo(3_001);
    assertThat(ch.isActive()).isTrue();
    ch.finishAndReleaseAll();
  }

  /**
   * A backlog of pipelined requests answered at once when the write in front of them completes
   * (each answer is ready immediately): they are answered one after another, not by a call per
   * request nested in the previous one's, so even a thread with a small stack answers them all.
   */
  @Test
  void backlogAnsweredAtOnce_doesNotNestACallPerRequest() throws Exception {
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    Thread small = new Thread(null, () -> {
      try {
        answerBacklog();
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "small-stack", 512 * 1024);
    small.start();
    small.join(10_000);
    assertThat(small.isAlive()).as("still answering after 10 s").isFalse();
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
  }

  private void answerBacklog() {
    ServerLimits limits = ServerLimits.defaults().withMaxPendingRequests("1024").withIdleTimeout("0");
    NodeHttpHandler handler = new NodeHttpHandler(api, metrics, config.nodeId(), limits.maxPendingRequests());
    EmbeddedChannel ch = serverChannel(limits, handler);
    local.writeGate = new java.util.concurrent.CompletableFuture<>();
    write(ch, post("a", "1") + "GET /api/cache/a HTTP/1.1\r\n\r\n".repeat(3_000));
    assertThat(handler.busy()).isTrue();
    local.writeGate.complete(null); // on this thread: every queued request is answered from here
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 100 && count(out, "HTTP/1.1 200 OK") < 3_000; i++) {
      out.append(output(ch));
    }
    assertThat(out).startsWith("HTTP/1.1 201 Created");
    assertThat(count(out, "HTTP/1.1 200 OK")).isEqualTo(3_000);
    assertThat(handler.busy()).isFalse();
    assertThat(handler.queued()).isZero();
    ch.finishAndReleaseAll();
  }

  @Test
  void trickledRequest_is408AfterTheReadTimeout_andClosed() {
    ServerLimits limits = ServerLimits.defaults().withRequestReadTimeout("2");
    EmbeddedChannel ch = serverChannel(limits);
    write(ch, "POST /api/cache/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 50\r\n\r\n\"abc");
    ch.advanceTimeBy(1_900, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    write(ch, "def"); // still trickling: the clock runs from the request's first byte
    assertThat(output(ch)).isEmpty();
    ch.advanceTimeBy(200, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(output(ch)).startsWith("HTTP/1.1 408 Request Timeout")
        .contains("{\"error\":\"RequestTimeout\",\"message\":\"the request was not received whole within 2 s");
    assertThat(local.cache.get("slow")).isNull();
    ch.finishAndReleaseAll();
  }

  /**
   * A request that times out behind one still in flight: the 408 comes after the earlier answer,
   * so the client cannot take it for the answer to the write it sent first (and resend it).
   */
  @Test
  void trickledRequestBehindOneInFlight_is408AfterTheEarlierAnswer() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2"));
    local.writeGate = new java.util.concurrent.CompletableFuture<>();
    write(ch, post("a", "1"));
    write(ch, "POST /api/cache/b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 50\r\n\r\n\"abc");
    ch.advanceTimeBy(2_100, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    local.writeGate.complete(null);
    String out = output(ch);
    assertThat(out).startsWith("HTTP/1.1 201 Created");
    assertThat(out.indexOf("HTTP/1.1 408 Request Timeout")).isGreaterThan(0);
    assertThat(local.cache.get("a")).isNotNull();
    assertThat(local.cache.get("b")).isNull();
    ch.finishAndReleaseAll();
  }

  /**
   * A whole request and the first bytes of the next in one read: the second request's clock starts
   * with that read, even with no idle timeout and nothing more ever sent.
   */
  @Test
  void requestStartedInTheReadThatEndedThePreviousOne_is408AfterTheReadTimeout() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2").withIdleTimeout("0"));
    write(ch, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/cache/half HTTP/1.1\r\nHost: x\r\n");
    assertThat(output(ch)).startsWith("HTTP/1.1 200 OK").doesNotContain("408");
    ch.advanceTimeBy(2_100, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(output(ch)).startsWith("HTTP/1.1 408 Request Timeout");
    assertThat(ch.isOpen()).isFalse();
    assertThat(local.cache.get("half")).isNull();
    ch.finishAndReleaseAll();
  }

  /** The same with only part of the next request line left over (bytes the decoder has not consumed). */
  @Test
  void partialRequestLineLeftInTheDecoder_is408AfterTheReadTimeout() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2").withIdleTimeout("0"));
    write(ch, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /hea");
    assertThat(output(ch)).startsWith("HTTP/1.1 200 OK");
    ch.advanceTimeBy(2_100, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(output(ch)).startsWith("HTTP/1.1 408 Request Timeout");
    ch.finishAndReleaseAll();
  }

  /** A request line may start with any byte above a space (0x7F-0xFF included): the clock runs from it. */
  @Test
  void requestStartingWithAByteAbove0x7e_is408AfterTheReadTimeout() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2").withIdleTimeout("0"));
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x80}));
    ch.advanceTimeBy(2_100, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(output(ch)).startsWith("HTTP/1.1 408 Request Timeout");
    ch.finishAndReleaseAll();
  }

  /** A connection closed in the middle of a request leaves no timer behind (it would keep the channel reachable). */
  @Test
  void connectionClosedMidRequest_leavesNoTimerScheduled() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2").withIdleTimeout("0"));
    write(ch, "GET /hea");
    ch.pipeline().fireChannelInactive(); // the decoder decodes what it holds once more on its way out
    assertThat(ch.runScheduledPendingTasks()).as("nanos to the next scheduled task, -1 for none").isEqualTo(-1);
    ch.finishAndReleaseAll();
  }

  /** Blank lines between requests (some clients send one after a body) are not a request in progress. */
  @Test
  void blankLineAfterARequest_doesNotStartTheClock() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2").withIdleTimeout("0"));
    write(ch, post("k", "1") + "\r\n");
    assertThat(output(ch)).startsWith("HTTP/1.1 201");
    ch.advanceTimeBy(5_000, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(output(ch)).isEmpty();
    assertThat(ch.isActive()).isTrue();
    write(ch, "GET /api/cache/k HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(output(ch)).startsWith("HTTP/1.1 200 OK");
    ch.finishAndReleaseAll();
  }

  /** An interim {@code 100 Continue} shifts no answer: the write keeps its body, the HEAD gets none. */
  @Test
  void expectContinueThenHead_eachAnswerKeepsItsBody() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults());
    local.writeGate = new java.util.concurrent.CompletableFuture<>(); // the write answers after the HEAD is read
    write(ch, "POST /api/cache/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n");
    assertThat(output(ch)).startsWith("HTTP/1.1 100 Continue");
    write(ch, "1HEAD /api/cache/k HTTP/1.1\r\nHost: x\r\n\r\n");
    local.writeGate.complete(null);
    String out = output(ch);
    int head = out.indexOf("HTTP/1.1", 1);
    assertThat(out.substring(0, head)).startsWith("HTTP/1.1 201").contains("{");
    assertThat(out.substring(head)).startsWith("HTTP/1.1 405").endsWith("\r\n\r\n").doesNotContain("{");
    ch.finishAndReleaseAll();
  }

  /** A key over the 8 KiB request line once percent-encoded: 414 (not a 400 about its length), nothing stored. */
  @Test
  void keyPercentEncodedPastTheRequestLine_is414Json() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults());
    String key = "%C3%A9".repeat(1_400); // 1,400 characters, 8,400 bytes on the wire
    write(ch, "POST /api/cache/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 1\r\n\r\n1");
    assertThat(output(ch)).startsWith("HTTP/1.1 414")
        .contains("{\"error\":\"URITooLong\",\"message\":\"the request line is limited to 8192 bytes");
    assertThat(ch.isOpen()).isFalse();
    assertThat(local.cache.get("\u00e9".repeat(1_400))).isNull();
  }

  /** A response to {@code HEAD} carries its headers and no body, also behind pipelined requests. */
  @Test
  void headRequest_isAnsweredWithoutABody() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults());
    write(ch, post("k", "1") + "HEAD /api/cache/k HTTP/1.1\r\nHost: x\r\n\r\nGET /api/cache/k HTTP/1.1\r\nHost: x\r\n\r\n");
    String out = output(ch);
    int head = out.indexOf("HTTP/1.1", out.indexOf("HTTP/1.1") + 1);
    int get = out.indexOf("HTTP/1.1", head + 1);
    String headResponse = out.substring(head, get);
    assertThat(headResponse).endsWith("\r\n\r\n").doesNotContain("{");
    assertThat(out.substring(get)).startsWith("HTTP/1.1 200 OK").contains("\"value\":1");
    ch.finishAndReleaseAll();
  }

  @Test
  void trickledRequest_isNotTimedOutWhileTheServerHasPausedReading() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2"));
    write(ch, "POST /api/cache/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 50\r\n\r\n\"abc");
    ch.config().setAutoRead(false); // as the handler does while its queue is full
    ch.advanceTimeBy(2_100, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(output(ch)).as("the client could not send the rest").isEmpty();
    ch.config().setAutoRead(true);
    ch.advanceTimeBy(2_100, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(output(ch)).startsWith("HTTP/1.1 408 Request Timeout");
    ch.finishAndReleaseAll();
  }

  @Test
  void requestsArrivingWhole_neverTimeOut() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withRequestReadTimeout("2"));
    for (int i = 0; i < 5; i++) {
      write(ch, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      ch.advanceTimeBy(1_500, java.util.concurrent.TimeUnit.MILLISECONDS);
      ch.runScheduledPendingTasks();
    }
    assertThat(output(ch)).doesNotContain("408").contains("HTTP/1.1 200 OK");
    assertThat(ch.isActive()).isTrue();
    ch.finishAndReleaseAll();
  }

  @Test
  void idleConnection_isClosed_butNotWhileARequestIsInFlight() {
    EmbeddedChannel ch = serverChannel(ServerLimits.defaults().withIdleTimeout("5"));
    local.writeGate = new java.util.concurrent.CompletableFuture<>();
    write(ch, post("k", "1"));
    // Netty's IdleStateHandler reads the system clock, not the channel's: deliver its event.
    ch.pipeline().fireUserEventTriggered(io.netty.handler.timeout.IdleStateEvent.ALL_IDLE_STATE_EVENT);
    assertThat(ch.isActive()).as("a write in flight is not idleness").isTrue();
    local.writeGate.complete(null);
    assertThat(output(ch)).startsWith("HTTP/1.1 201");
    ch.pipeline().fireUserEventTriggered(io.netty.handler.timeout.IdleStateEvent.ALL_IDLE_STATE_EVENT);
    assertThat(ch.isActive()).isFalse();
  }

  /**
   * A client pipelining GETs of a large value without reading: the node answers the next request
   * only while the queued responses stay under the high water mark, so it holds at most that plus
   * one response; once the client reads, every answer comes, in order.
   */
  @Test
  void clientNotReading_queuedResponsesStayWithinTheBound() {
    java.util.concurrent.atomic.AtomicBoolean socketFull = new java.util.concurrent.atomic.AtomicBoolean(true);
    EmbeddedChannel ch = nonReadingClient(ServerLimits.defaults().withMaxQueuedResponseBytes("1024"), socketFull);
    long queued = ch.unsafe().outboundBuffer().totalPendingWriteBytes();
    assertThat(queued).as("response bytes queued for a client that does not read").isPositive().isLessThan(1024 + 1024);
    socketFull.set(false);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 100 && count(out, "HTTP/1.1 200 OK") < 10; i++) {
      ch.flush();
      ch.runPendingTasks();
      out.append(output(ch));
    }
    assertThat(count(out, "HTTP/1.1 200 OK")).isEqualTo(10);
    ch.finishAndReleaseAll();
  }

  /**
   * A client that pipelined 10 GETs of a 600-byte value and reads nothing: a pipeline as the
   * server builds it behind a socket that takes no bytes while {@code socketFull}.
   */
  private EmbeddedChannel nonReadingClient(ServerLimits limits, java.util.concurrent.atomic.AtomicBoolean socketFull) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(512, 1024));
    ch.pipeline().addLast(new io.netty.channel.ChannelOutboundHandlerAdapter() {
      @Override
      public void flush(io.netty.channel.ChannelHandlerContext ctx) {
        if (!socketFull.get()) {
          ctx.flush();
        }
      }
    });
    NettyTransport.initHttp(ch.pipeline(), 4096, limits, new NodeHttpHandler(api, metrics, config.nodeId(), 16));
    local.cache.put("big", NodeJson.envelope("\"" + "v".repeat(600) + "\"", "2020-01-01T00:00:00Z"));
    write(ch, "GET /api/cache/big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(10));
    return ch;
  }

  /**
   * A pipelining client that never reads cannot hold its connection: once it has taken none of
   * its responses for the idle timeout, the connection is closed, queued requests and all.
   */
  @Test
  void clientNotReading_isClosedAtTheIdleTimeout() {
    ServerLimits limits = ServerLimits.defaults().withMaxQueuedResponseBytes("1024").withIdleTimeout("5");
    EmbeddedChannel ch = nonReadingClient(limits, new java.util.concurrent.atomic.AtomicBoolean(true));
    assertThat(ch.isWritable()).as("the responses fill the write buffer").isFalse();
    // Netty's IdleStateHandler reads the system clock, not the channel's: deliver its event.
    ch.pipeline().fireUserEventTriggered(io.netty.handler.timeout.IdleStateEvent.ALL_IDLE_STATE_EVENT);
    assertThat(ch.isActive()).isFalse();
    ch.finishAndReleaseAll();
  }

  private static int count(CharSequence text, String part) {
    String all = text.toString();
    int n = 0;
    for (int i = all.indexOf(part); i >= 0; i = all.indexOf(part, i + 1)) {
      n++;
    }
    return n;
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
