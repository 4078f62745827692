package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.examples.proxy.ClientHandler.After;
import io.cachet.examples.proxy.ClientHandler.Reply;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** Replies leave in request order, and the queue counts the keys and waiting bytes its bounds use. */
final class ReplyQueueTest {

  private static Reply reply(String text) {
    return new Reply(Unpooled.copiedBuffer(text, US_ASCII), After.KEEP);
  }

  @Test
  void repliesLeaveInRequestOrder_countingKeysAndWaitingBytes() {
    ReplyQueue queue = new ReplyQueue();
    ReplyQueue.Slot first = queue.reserve(1, 3); // an MGET of 3 keys
    ReplyQueue.Slot second = queue.reserve(2, 1);
    queue.addComplete(3, reply("+PONG\r\n"));
    assertThat(queue.keys()).isEqualTo(5);

    queue.fill(second, reply("$1\r\nb\r\n"));
    assertThat(queue.pollReady()).as("the head is not answered yet").isNull();
    assertThat(queue.bytes()).isEqualTo(7 + 7);

    queue.fill(first, reply("*0\r\n"));
    assertThat(((ByteBuf) queue.pollReady().message()).toString(US_ASCII)).isEqualTo("*0\r\n");
    assertThat(((ByteBuf) queue.pollReady().message()).toString(US_ASCII)).isEqualTo("$1\r\nb\r\n");
    assertThat(((ByteBuf) queue.pollReady().message()).toString(US_ASCII)).isEqualTo("+PONG\r\n");
    assertThat(queue.isEmpty()).isTrue();
    assertThat(queue.keys()).isZero();
    assertThat(queue.bytes()).isZero();
  }

  @Test
  void releaseAll_releasesTheCompleteReplies_andForgetsEverySlot() {
    ReplyQueue queue = new ReplyQueue();
    queue.reserve(1, 2);
    Reply waiting = reply("+OK\r\n");
    queue.addComplete(2, waiting);
    queue.releaseAll();
    assertThat(((ByteBuf) waiting.message()).refCnt()).isZero();
    assertThat(queue.isEmpty()).isTrue();
    assertThat(queue.keys()).isZero();
    assertThat(queue.bytes()).isZero();
  }
}
