package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The RESP request decoder, one malformed input per test, on an {@link EmbeddedChannel}. */
final class RespDecoderTest {

  private static final int MAX_REQUEST = 4096;

  private final EmbeddedChannel channel = new EmbeddedChannel(new RespDecoder(MAX_REQUEST, null));

  @Test
  void decode_multibulkCommand() {
    write("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    assertThat(args(read())).containsExactly("GET", "key");
    assertThat(channel.<Object>readInbound()).isNull();
  }

  @Test
  void decode_getInAnyCase_sharesTheCommandName() {
    write("*2\r\n$3\r\nget\r\n$1\r\nk\r\n*2\r\n$3\r\ngEt\r\n$0\r\n\r\n");
    RespDecoder.Command first = read();
    assertThat(first.args().get(0)).isSameAs(RespHandler.GET);
    assertThat(args(first)).containsExactly("GET", "k");
    assertThat(read().args().get(1)).isEmpty();
  }

  @Test
  void decode_getWithAWrongLength_isAProtocolError() {
    write("*2\r\n$3\r\nGET\r\n$2\r\nabc\r\n");
    assertThat(error()).isEqualTo("expected CRLF after a bulk string of 2 bytes");
  }

  @Test
  void decode_getWithALeadingZeroLength_isStillAGet() {
    write("*2\r\n$03\r\nGET\r\n$01\r\nk\r\n");
    assertThat(args(read())).containsExactly("GET", "k");
  }

  @Test
  void decode_pipelinedCommandsInOneRead_inOrder() {
    write("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$4\r\nMGET\r\n$1\r\nb\r\n$1\r\nc\r\n");
    assertThat(args(read())).containsExactly("PING");
    assertThat(args(read())).containsExactly("GET", "a");
    assertThat(args(read())).containsExactly("MGET", "b", "c");
  }

  @Test
  void decode_frameSplitAtEveryByte() {
    byte[] frame = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n".getBytes(UTF_8);
    for (int i = 0; i < frame.length - 1; i++) {
      channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {frame[i]}));
      assertThat(channel.<Object>readInbound()).as("after byte %d", i).isNull();
    }
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {frame[frame.length - 1]}));
    assertThat(args(read())).containsExactly("GET", "hello");
  }

  @Test
  void decode_binarySafeArguments() {
    byte[] key = {0, '\r', '\n', (byte) 0xff, '*', '$'};
    ByteBuf frame = Unpooled.buffer();
    frame.writeCharSequence("*2\r\n$3\r\nGET\r\n$6\r\n", UTF_8);
    frame.writeBytes(key).writeBytes(new byte[] {'\r', '\n'});
    channel.writeInbound(frame);
    assertThat(read().args().get(1)).containsExactly(key);
  }

  @Test
  void decode_inlineCommands() {
    write("PING\r\nGET  key\n\r\n   \r\nECHO\thi\r\n");
    assertThat(args(read())).containsExactly("PING");
    assertThat(args(read())).containsExactly("GET", "key");
    assertThat(args(read())).containsExactly("ECHO", "hi");
    assertThat(channel.<Object>readInbound()).isNull();
  }

  @Test
  void decode_inlineCommandsWithQuotes_asRedisSplitsThem() {
    write("GET \"a b\"\r\nGET 'it\\'s'\r\nGET \"\\x41\\n\\\"\"\r\nGET \"foo\"\r\nSET k \"\"\r\n");
    assertThat(args(read())).containsExactly("GET", "a b");
    assertThat(args(read())).containsExactly("GET", "it's");
    assertThat(args(read())).containsExactly("GET", "A\n\"");
    assertThat(args(read())).containsExactly("GET", "foo");
    assertThat(args(read())).containsExactly("SET", "k", "");
  }

  @Test
  void decode_inlineUnbalancedQuotes_isAProtocolError() {
    write("GET 'x\r\n");
    assertThat(error()).isEqualTo("unbalanced quotes in request");
  }

  @Test
  void decode_inlineClosingQuoteFollowedByText_isAProtocolError() {
    write("GET \"a\"b\r\n");
    assertThat(error()).isEqualTo("unbalanced quotes in request");
  }

  @Test
  void decode_emptyArrayIsIgnored() {
    write("*0\r\n*1\r\n$4\r\nPING\r\n");
    assertThat(args(read())).containsExactly("PING");
  }

  @Test
  void decode_emptyBulkString() {
    write("*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
    assertThat(read().args().get(1)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"+PING\r\n", "$4\r\nPING\r\n", ":1\r\n", "-ERR\r\n", "%1\r\n", ">1\r\n", "_\r\n"})
  void decode_wrongTypeByte(String input) {
    write(input);
    assertThat(error()).startsWith("expected '*', got '" + input.charAt(0) + "'");
  }

  @Test
  void decode_nonBulkArrayElement() {
    write("*1\r\n:5\r\n");
    assertThat(error()).isEqualTo("expected '$', got ':'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"*abc\r\n", "*\r\n", "*1x\r\n", "* 1\r\n", "*+1\r\n", "*1\rX"})
  void decode_nonNumericArrayLength(String input) {
    write(input);
    assertThat(error()).isEqualTo("invalid multibulk length");
  }

  @ParameterizedTest
  @ValueSource(strings = {"*1\r\n$abc\r\n", "*1\r\n$\r\n", "*1\r\n$1.5\r\n", "*1\r\n$0x10\r\n"})
  void decode_nonNumericBulkLength(String input) {
    write(input);
    assertThat(error()).startsWith("invalid bulk length");
  }

  @Test
  void decode_negativeArrayLength() {
    write("*-1\r\n");
    assertThat(error()).isEqualTo("invalid multibulk length");
  }

  @Test
  void decode_negativeBulkLength() {
    write("*2\r\n$3\r\nGET\r\n$-1\r\n");
    assertThat(error()).startsWith("invalid bulk length");
  }

  @Test
  void decode_bulkLengthOf2To31_isRejectedWithoutAllocating() {
    TrackingAllocator alloc = new TrackingAllocator();
    channel.config().setAllocator(alloc);
    write("*2\r\n$3\r\nGET\r\n$2147483648\r\n");
    assertThat(error()).startsWith("invalid bulk length");
    assertThat(alloc.largest.get()).isLessThan(1024);
  }

  @Test
  void decode_hugeNumbers_overflowIsRejected() {
    write("*99999999999999999999999999\r\n");
    assertThat(error()).isEqualTo("invalid multibulk length");
  }

  @Test
  void decode_arrayLengthAboveLimit() {
    write("*" + (RespDecoder.MAX_ARGS + 1) + "\r\n");
    assertThat(error()).isEqualTo("invalid multibulk length");
  }

  @Test
  void decode_numberLineWithoutEnd() {
    write("*" + "1".repeat(40));
    assertThat(error()).isEqualTo("invalid multibulk length");
  }

  @Test
  void decode_missingCrlfAfterBulk() {
    write("*1\r\n$4\r\nPINGxx");
    assertThat(error()).startsWith("expected CRLF after a bulk string");
  }

  @Test
  void decode_requestLargerThanTheLimit_claimed() {
    write("*2\r\n$3\r\nGET\r\n$" + MAX_REQUEST + "\r\n");
    assertThat(error()).contains("max-request-bytes " + MAX_REQUEST);
  }

  @Test
  void decode_requestLargerThanTheLimit_summedOverArguments() {
    String arg = "x".repeat(1000);
    StringBuilder frame = new StringBuilder("*6\r\n$4\r\nMGET\r\n");
    for (int i = 0; i < 5; i++) {
      frame.append("$1000\r\n").append(arg).append("\r\n");
    }
    write(frame.toString());
    assertThat(error()).contains("max-request-bytes");
  }

  /** A GET just over the limit (counting each argument's overhead) is refused whole or split. */
  @Test
  void decode_getJustOverTheLimit_isRefusedWhetherItArrivesWholeOrSplit() {
    // "*2\r\n", "$3\r\n", "GET\r\n", "$NNNN\r\n" (a four-digit length), the key and its CRLF, 2 x 24.
    int keyLength = MAX_REQUEST - (4 + 4 + 5 + 7 + 2 + 2 * RespDecoder.ARG_OVERHEAD) + 1;
    String frame = "*2\r\n$3\r\nGET\r\n$" + keyLength + "\r\n" + "k".repeat(keyLength) + "\r\n";
    write(frame);
    assertThat(error()).contains("max-request-bytes " + MAX_REQUEST);

    EmbeddedChannel split = new EmbeddedChannel(new RespDecoder(MAX_REQUEST, null));
    split.writeInbound(Unpooled.copiedBuffer(frame.substring(0, 20), ISO_8859_1));
    split.writeInbound(Unpooled.copiedBuffer(frame.substring(20), ISO_8859_1));
    assertThat(split.<Object>readInbound()).isInstanceOf(RespDecoder.ProtocolError.class);

    // One byte shorter, it fits either way.
    String fits = "*2\r\n$3\r\nGET\r\n$" + (keyLength - 1) + "\r\n" + "k".repeat(keyLength - 1) + "\r\n";
    EmbeddedChannel whole = new EmbeddedChannel(new RespDecoder(MAX_REQUEST, null));
    whole.writeInbound(Unpooled.copiedBuffer(fits, ISO_8859_1));
    assertThat(whole.<Object>readInbound()).isInstanceOf(RespDecoder.Command.class);
    EmbeddedChannel inTwo = new EmbeddedChannel(new RespDecoder(MAX_REQUEST, null));
    inTwo.writeInbound(Unpooled.copiedBuffer(fits.substring(0, 20), ISO_8859_1));
    inTwo.writeInbound(Unpooled.copiedBuffer(fits.substring(20), ISO_8859_1));
    assertThat(inTwo.<Object>readInbound()).isInstanceOf(RespDecoder.Command.class);
  }

  @Test
  void decode_claimedLength_allocatesNothingUntilTheBytesArrive() {
    TrackingAllocator alloc = new TrackingAllocator();
    channel.config().setAllocator(alloc);
    write("*2\r\n$3\r\nGET\r\n$4000\r\n");
    write("abc");
    assertThat(channel.<Object>readInbound()).isNull();
    assertThat(alloc.largest.get()).as("largest allocation").isLessThan(1024);
    write("x".repeat(3997) + "\r\n");
    assertThat(read().args().get(1)).hasSize(4000);
  }

  @Test
  void decode_tenThousandDeepNestedArray_isRejectedAtTheFirstNesting() {
    write("*1\r\n".repeat(10_000));
    assertThat(error()).isEqualTo("expected '$', got '*'");
  }

  @Test
  void decode_afterAnError_everythingIsDiscarded() {
    write("*1\r\n:5\r\n");
    assertThat(error()).isNotEmpty();
    write("*1\r\n$4\r\nPING\r\n");
    assertThat(channel.<Object>readInbound()).isNull();
  }

  @Test
  void decode_commandsBeforeAnError_areDeliveredFirst() {
    write("*1\r\n$4\r\nPING\r\n*1\r\n:5\r\n");
    assertThat(args(read())).containsExactly("PING");
    assertThat(error()).isEqualTo("expected '$', got ':'");
  }

  @Test
  void decode_binaryGarbage() {
    byte[] garbage = new byte[64 * 1024];
    new Random(42).nextBytes(garbage);
    garbage[0] = 0x01; // not '*', so it is read as an inline command
    channel.writeInbound(Unpooled.wrappedBuffer(garbage));
    assertThat(error()).startsWith("invalid inline request: byte 0x01");
  }

  @Test
  void decode_binaryGarbageAfterArrayHeader() {
    byte[] garbage = new byte[1024];
    new Random(7).nextBytes(garbage);
    ByteBuf buf = Unpooled.buffer().writeBytes("*3\r\n".getBytes(UTF_8)).writeBytes(garbage);
    channel.writeInbound(buf);
    assertThat(error()).isNotEmpty();
  }

  @Test
  void decode_inlineTooBig() {
    write("G".repeat(RespDecoder.MAX_INLINE_BYTES + 1));
    assertThat(error()).isEqualTo("too big inline request");
  }

  @Test
  void decode_inlineOfManySmallArguments_countsEachArgumentsHeap() {
    // 2,005 bytes on the wire, under the limit, but 1,001 arguments take about 25 KB of heap.
    write("MGET" + " a".repeat(1000) + "\r\n");
    assertThat(error()).isEqualTo("too big inline request (its arguments would exceed max-request-bytes 4096)");
  }

  @Test
  void decode_inlineOfSmallArguments_withinTheLimit_isTaken() {
    write("MGET" + " a".repeat(100) + "\r\n");
    assertThat(read().args()).hasSize(101);
  }

  @Test
  void decode_inlineTrickledByteByByte_isScannedOnce() {
    for (char c : "ECHO abc".toCharArray()) {
      write(String.valueOf(c));
    }
    write("\r");
    assertThat(channel.<Object>readInbound()).isNull();
    write("\n");
    assertThat(args(read())).containsExactly("ECHO", "abc");
  }

  @Test
  void decode_inlineWithControlCharacter() {
    write("GET a\u0000b\r\n");
    assertThat(error()).startsWith("invalid inline request: byte 0x00");
  }

  @Test
  void decode_nonUtf8BytesPassThrough_unchanged() {
    ByteBuf frame = Unpooled.buffer();
    frame.writeCharSequence("*2\r\n$3\r\nGET\r\n$2\r\n", UTF_8);
    frame.writeBytes(new byte[] {(byte) 0xff, (byte) 0xfe, '\r', '\n'});
    channel.writeInbound(frame);
    assertThat(read().args().get(1)).containsExactly(0xff, 0xfe);
  }

  @Test
  void deadline_incompleteRequest_timesOut() {
    AtomicLong clock = new AtomicLong();
    RequestDeadline deadline = new RequestDeadline(Duration.ofSeconds(10), clock::get);
    List<Object> events = new ArrayList<>();
    EmbeddedChannel ch = deadlineChannel(deadline, events, new ArrayList<>());
    ch.writeInbound(Unpooled.copiedBuffer("*2\r\n$3\r\nGET\r\n$5\r\nke", UTF_8));
    assertThat(deadline.timing()).isTrue();
    advance(ch, clock, Duration.ofSeconds(9));
    assertThat(events).isEmpty();
    advance(ch, clock, Duration.ofSeconds(2));
    assertThat(events).containsExactly(new RequestDeadline.TimedOut(Duration.ofSeconds(10)));
  }

  @Test
  void deadline_completedRequests_doNotTimeOut() {
    AtomicLong clock = new AtomicLong();
    RequestDeadline deadline = new RequestDeadline(Duration.ofSeconds(10), clock::get);
    List<Object> events = new ArrayList<>();
    EmbeddedChannel ch = deadlineChannel(deadline, events, new ArrayList<>());
    ch.writeInbound(Unpooled.copiedBuffer("*1\r\n$4\r\nPI", UTF_8));
    advance(ch, clock, Duration.ofSeconds(5));
    ch.writeInbound(Unpooled.copiedBuffer("NG\r\n", UTF_8)); // complete; idle from now on
    assertThat(deadline.timing()).isFalse();
    advance(ch, clock, Duration.ofSeconds(30));
    assertThat(events).isEmpty();
    // A new request started late gets its own full timeout.
    ch.writeInbound(Unpooled.copiedBuffer("*1\r\n", UTF_8));
    advance(ch, clock, Duration.ofSeconds(9));
    assertThat(events).isEmpty();
    advance(ch, clock, Duration.ofSeconds(1));
    assertThat(events).hasSize(1);
  }

  @Test
  void deadline_timesEachRequest_notAStreakOfReadsEndingMidRequest() {
    AtomicLong clock = new AtomicLong();
    RequestDeadline deadline = new RequestDeadline(Duration.ofSeconds(10), clock::get);
    List<Object> events = new ArrayList<>();
    List<Object> commands = new ArrayList<>();
    EmbeddedChannel ch = deadlineChannel(deadline, events, commands);
    // A pipelining client whose every read ends inside its next request, each request taking 6 s.
    ch.writeInbound(Unpooled.copiedBuffer("*1\r\n$4\r\nPI", UTF_8));
    for (int i = 0; i < 5; i++) {
      advance(ch, clock, Duration.ofSeconds(6));
      ch.writeInbound(Unpooled.copiedBuffer("NG\r\n*1\r\n$4\r\nPI", UTF_8));
    }
    assertThat(commands).hasSize(5);
    assertThat(events).as("no request took 10 s").isEmpty();
    advance(ch, clock, Duration.ofSeconds(11));
    assertThat(events).as("the last one did").containsExactly(new RequestDeadline.TimedOut(Duration.ofSeconds(10)));
  }

  /**
   * While the proxy holds reading off (a client not taking its replies), the rest of a request may
   * sit unread in the socket: the request is not late, and is not timed out meanwhile.
   */
  @Test
  void deadline_doesNotFireWhileReadingIsHeldOff() {
    AtomicLong clock = new AtomicLong();
    RequestDeadline deadline = new RequestDeadline(Duration.ofSeconds(10), clock::get);
    List<Object> events = new ArrayList<>();
    List<Object> commands = new ArrayList<>();
    EmbeddedChannel ch = deadlineChannel(deadline, events, commands);
    ch.writeInbound(Unpooled.copiedBuffer("*2\r\n$3\r\nGET\r\n$4\r\ngo", UTF_8));
    ch.config().setAutoRead(false); // replies queued: the proxy stops reading

    advance(ch, clock, Duration.ofSeconds(25));
    assertThat(events).as("timed out while not reading").isEmpty();

    ch.config().setAutoRead(true);
    ch.writeInbound(Unpooled.copiedBuffer("od\r\n", UTF_8));
    assertThat(commands).hasSize(1);
    assertThat(deadline.timing()).isFalse();
    // A client that then stalls mid-request while the proxy reads is still timed out.
    ch.writeInbound(Unpooled.copiedBuffer("*1\r\n", UTF_8));
    advance(ch, clock, Duration.ofSeconds(21));
    assertThat(events).containsExactly(new RequestDeadline.TimedOut(Duration.ofSeconds(10)));
  }

  /** A decoder with {@code deadline} on a channel whose time the test moves; what it emits is recorded. */
  private static EmbeddedChannel deadlineChannel(RequestDeadline deadline, List<Object> events, List<Object> commands) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.pipeline().addLast(new RespDecoder(MAX_REQUEST, deadline), new io.netty.channel.ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        commands.add(msg);
      }

      @Override
      public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
        events.add(evt);
      }
    });
    return ch;
  }

  private static void advance(EmbeddedChannel ch, AtomicLong clock, Duration by) {
    clock.addAndGet(by.toNanos());
    ch.advanceTimeBy(by.toNanos(), TimeUnit.NANOSECONDS);
    ch.runScheduledPendingTasks();
  }

  private void write(String s) {
    channel.writeInbound(Unpooled.copiedBuffer(s, ISO_8859_1));
  }

  private RespDecoder.Command read() {
    Object message = channel.readInbound();
    assertThat(message).isInstanceOf(RespDecoder.Command.class);
    return (RespDecoder.Command) message;
  }

  private String error() {
    Object message = channel.readInbound();
    assertThat(message).as("a protocol error").isInstanceOf(RespDecoder.ProtocolError.class);
    assertThat(channel.<Object>readInbound()).as("nothing after the error").isNull();
    return ((RespDecoder.ProtocolError) message).message();
  }

  private static List<String> args(RespDecoder.Command command) {
    return command.args().stream().map(b -> new String(b, UTF_8)).toList();
  }

  /** Records the largest buffer the decoder asks for. */
  private static final class TrackingAllocator extends AbstractByteBufAllocator {
    final AtomicLong largest = new AtomicLong();

    TrackingAllocator() {
      super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      largest.accumulateAndGet(initialCapacity, Math::max);
      return Unpooled.buffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      largest.accumulateAndGet(initialCapacity, Math::max);
      return Unpooled.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }
}
