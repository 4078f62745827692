package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

final class Resp3Test {

  /** Plays bytes, with a read timeout wherever the script says {@link #TIMEOUT}. */
  private static final class Script extends InputStream {
    static final String TIMEOUT = "\u0000TIMEOUT\u0000";
    private final Deque<Object> parts = new ArrayDeque<>();

    Script(String... parts) {
      for (String part : parts) {
        this.parts.add(part.equals(TIMEOUT) ? TIMEOUT : new ByteArrayInputStream(part.getBytes(StandardCharsets.ISO_8859_1)));
      }
    }

    @Override
    public int read() throws IOException {
      while (true) {
        Object head = parts.peek();
        if (head == null) {
          return -1;
        }
        if (head == TIMEOUT) {
          parts.poll();
          throw new SocketTimeoutException("Read timed out");
        }
        int b = ((InputStream) head).read();
        if (b >= 0) {
          return b;
        }
        parts.poll();
      }
    }

    /** Like a socket: a timeout is thrown, never swallowed after a partial read (as InputStream's is). */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      int first = read();
      if (first < 0) {
        return -1;
      }
      b[off] = (byte) first;
      int n = 1;
      while (n < len && parts.peek() instanceof InputStream head && head.available() > 0) {
        b[off + n++] = (byte) head.read();
      }
      return n;
    }
  }

  private static final String PUSH = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nabc\r\n";

  @Test
  void read_invalidationPush() throws IOException {
    Object frame = Resp3.read(new Script(PUSH));
    assertThat(frame).isInstanceOf(Resp3.Push.class);
    Resp3.Push push = (Resp3.Push) frame;
    assertThat(push.kind()).isEqualTo("invalidate");
    assertThat((List<?>) push.parts().get(1)).singleElement().isEqualTo("abc".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void read_timeoutBeforeAFrame_isIdleAndTheStreamStaysInStep() throws IOException {
    Script in = new Script(Script.TIMEOUT, "+PONG\r\n");
    assertThatThrownBy(() -> Resp3.read(in)).isExactlyInstanceOf(SocketTimeoutException.class);
    assertThat(Resp3.read(in)).isEqualTo("PONG");
  }

  @Test
  void read_timeoutInTheMiddleOfAFrame_isFatalNotIdle() {
    // Half an invalidation, a pause longer than the read timeout, then the rest: treating the
    // pause as idle would parse "bc\r\n" as the next frame and lose the invalidation.
    for (int cut = 1; cut < PUSH.length(); cut++) {
      Script in = new Script(PUSH.substring(0, cut), Script.TIMEOUT, PUSH.substring(cut));
      assertThatThrownBy(() -> Resp3.read(in))
          .as("timeout after %d bytes", cut)
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("middle of a frame");
    }
  }

  @Test
  void read_nestingUpToTheLimit_isAccepted() throws IOException {
    Object frame = Resp3.read(new Script("*1\r\n".repeat(Resp3.MAX_DEPTH) + ":7\r\n"));
    for (int i = 0; i < Resp3.MAX_DEPTH; i++) {
      frame = ((List<?>) frame).get(0);
    }
    assertThat(frame).isEqualTo(7L);
  }

  @Test
  void read_nestingDeeperThanTheLimit_isAProtocolErrorNotAStackOverflow() {
    assertThatThrownBy(() -> Resp3.read(new Script("*1\r\n".repeat(Resp3.MAX_DEPTH + 1) + ":7\r\n")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("nested deeper than " + Resp3.MAX_DEPTH);
    assertThatThrownBy(() -> Resp3.read(new Script(">1\r\n".repeat(1_000_000))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("nested deeper");
  }

  @Test
  void read_bulkLongerThanTheLimit_isAProtocolError() {
    assertThatThrownBy(() -> Resp3.read(new Script("$" + (Resp3.MAX_BULK + 1) + "\r\n")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("length out of range");
  }

  @Test
  void read_frameOfMoreElementsThanTheLimitInAll_isAProtocolErrorBeforeReadingThem() {
    // Each aggregate is within the per-aggregate limit; together they are not.
    assertThatThrownBy(() -> Resp3.read(new Script(">2\r\n*" + Resp3.MAX_AGGREGATE + "\r\n")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("frame larger than");
  }

  @Test
  void read_attributeBeforeAReply_isSkipped() throws IOException {
    assertThat(Resp3.read(new Script("|1\r\n+key\r\n+value\r\n:3\r\n"))).isEqualTo(3L);
  }
}
