package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Which bytes start a request, for the request timeout: the HTTP side, on an embedded channel. */
final class TrackingHttpRequestDecoderTest {

  private final AtomicLong clock = new AtomicLong();
  private final EmbeddedChannel channel = channel();

  private EmbeddedChannel channel() {
    HttpHandler handler = new HttpHandler(new FakeAsyncCache(), new Parallelism(0), new ProxyMetrics(), 1024);
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.freezeTime();
    RequestDeadline deadline = new RequestDeadline(Duration.ofSeconds(10), clock::get);
    ch.pipeline().addLast(new TrackingHttpRequestDecoder(deadline, handler::acceptingRequests),
        new HttpResponseEncoder(), handler);
    return ch;
  }

  /** RFC 9112 (2.2): an empty line after a request is to be ignored, not taken as the next one. */
  @Test
  void emptyLineAfterACompleteRequest_startsNoRequest() {
    channel.writeInbound(Unpooled.copiedBuffer("GET /health HTTP/1.1\r\nHost: x\r\n\r\n\r\n", ISO_8859_1));
    assertThat(output()).startsWith("HTTP/1.1 200 OK");

    advance(Duration.ofSeconds(11));
    assertThat(output()).as("nothing sent to an idle keep-alive client").isEmpty();
    assertThat(channel.isOpen()).isTrue();
  }

  /** The control: the start of a request left unfinished is timed out. */
  @Test
  void partOfARequestAfterACompleteOne_isTimedOut() {
    channel.writeInbound(Unpooled.copiedBuffer("GET /health HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /hea", ISO_8859_1));
    assertThat(output()).startsWith("HTTP/1.1 200 OK");

    advance(Duration.ofSeconds(11));
    assertThat(output()).startsWith("HTTP/1.1 408");
  }

  private void advance(Duration by) {
    clock.addAndGet(by.toNanos());
    channel.advanceTimeBy(by.toNanos(), TimeUnit.NANOSECONDS);
    channel.runScheduledPendingTasks();
  }

  private String output() {
    channel.runPendingTasks();
    StringBuilder text = new StringBuilder();
    for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
      ByteBuf buf = (ByteBuf) o;
      text.append(buf.toString(ISO_8859_1));
      buf.release();
    }
    return text.toString();
  }
}
