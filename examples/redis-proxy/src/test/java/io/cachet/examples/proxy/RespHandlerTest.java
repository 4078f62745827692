package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.BackendUnavailableException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The RESP handler over a fake cache: replies in request order, the parallelism limit,
 * back-pressure and error replies.
 */
final class RespHandlerTest {

  private final FakeAsyncCache cache = new FakeAsyncCache();
  private final ProxyMetrics metrics = new ProxyMetrics();

  /** Wired as in production: the decoder hands messages straight to the handler. */
  private EmbeddedChannel channel(Parallelism parallelism) {
    RespHandler handler = new RespHandler(cache, parallelism, metrics);
    return new EmbeddedChannel(new RespDecoder(64 * 1024, null, handler::directRead), handler);
  }

  @Test
  void pipelinedReplies_leaveInRequestOrder_evenWhenAnEarlierReadIsSlow() {
    cache.values.put("fast", "F".getBytes(UTF_8));
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "*2\r\n$3\r\nGET\r\n$4\r\nslow\r\n*2\r\n$3\r\nGET\r\n$4\r\nfast\r\n*1\r\n$4\r\nPING\r\n");
    assertThat(output(ch)).isEmpty();
    cache.slow.get("slow").complete("S".getBytes(UTF_8));
    assertThat(output(ch)).isEqualTo("$1\r\nS\r\n$1\r\nF\r\n+PONG\r\n");
  }

  @Test
  void missingKey_isNil() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "GET nothing\r\n");
    cache.slow.get("nothing").complete(null);
    assertThat(output(ch)).isEqualTo("$-1\r\n");
  }

  @Test
  void mget_keepsRequestOrder_withNilForMissingKeys() {
    cache.values.put("a", "1".getBytes(UTF_8));
    cache.values.put("c", "3".getBytes(UTF_8));
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "MGET c b a c\r\n");
    assertThat(output(ch)).isEqualTo("*4\r\n$1\r\n3\r\n$-1\r\n$1\r\n1\r\n$1\r\n3\r\n");
  }

  /**
   * Redis's MGET answers nil for a key holding another type than a string; a cache's getAll fails
   * as a whole. The proxy reads the keys one by one then, and answers as Redis does.
   */
  @Test
  void mget_withAKeyOfAnotherType_answersNilForIt_asRedisDoes() {
    cache.values.put("s", "v".getBytes(UTF_8));
    cache.failing.put("l", new io.cachet.CacheException("WRONGTYPE Operation against a key holding the wrong kind of value", null));
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "MGET s l nokey\r\n");
    cache.slow.get("nokey").complete(null);
    assertThat(output(ch)).isEqualTo("*3\r\n$1\r\nv\r\n$-1\r\n$-1\r\n");

    cache.failing.put("down", new io.cachet.BackendUnavailableException("Redis at h:1 is unavailable", null));
    write(ch, "MGET s down\r\n");
    assertThat(output(ch)).as("any other failure still fails the MGET").startsWith("-ERR Redis is unavailable");

    // A key whose name contains WRONGTYPE, in a failure that names it, is no WRONGTYPE reply.
    cache.failing.put("WRONGTYPEx", new io.cachet.BackendUnavailableException(
        "Redis at h:1 did not answer within 2 s for key 'WRONGTYPEx'", null));
    write(ch, "MGET l WRONGTYPEx\r\n");
    assertThat(output(ch)).startsWith("-ERR Redis is unavailable");
  }

  @Test
  void sequential_secondClientsReadStartsOnlyAfterTheFirstIsAnswered() {
    Parallelism one = new Parallelism(1);
    EmbeddedChannel first = channel(one);
    EmbeddedChannel second = channel(one);
    write(first, "GET a\r\n");
    write(second, "GET b\r\n");
    assertThat(cache.reads).containsExactly("a");
    assertThat(one.queued()).isEqualTo(1);
    cache.slow.get("a").complete("A".getBytes(UTF_8));
    assertThat(output(first)).isEqualTo("$1\r\nA\r\n");
    second.runPendingTasks(); // the queued read runs on its own event loop
    assertThat(cache.reads).containsExactly("a", "b");
    cache.slow.get("b").complete("B".getBytes(UTF_8));
    second.runPendingTasks();
    assertThat(output(second)).isEqualTo("$1\r\nB\r\n");
    assertThat(one.active()).isZero();
  }

  @Test
  void tooManyUnansweredRequests_stopReading_untilHalfAreAnswered() {
    AtomicInteger readRequests = new AtomicInteger();
    RespHandler handler = new RespHandler(cache, new Parallelism(0), metrics);
    EmbeddedChannel ch = new EmbeddedChannel(
        new ChannelOutboundHandlerAdapter() {
          @Override
          public void read(ChannelHandlerContext ctx) {
            readRequests.incrementAndGet();
            ctx.read();
          }
        },
        new RespDecoder(64 * 1024, null, handler::directRead),
        handler);
    StringBuilder pipeline = new StringBuilder();
    for (int i = 0; i < ClientHandler.MAX_PENDING; i++) {
      pipeline.append("GET k").append(i).append("\r\n");
    }
    write(ch, pipeline.toString());
    assertThat(ch.config().isAutoRead()).isFalse();
    int before = readRequests.get();
    write(ch, "GET more\r\n*1\r\n"); // a read completing with a partial request left over
    assertThat(readRequests.get()).as("no read requested behind the back-pressure").isEqualTo(before);
    for (int i = 0; i <= ClientHandler.MAX_PENDING / 2; i++) { // the extra GET is pending too
      cache.slow.get("k" + i).complete(null);
    }
    assertThat(ch.config().isAutoRead()).isTrue();
    ch.finishAndReleaseAll();
  }

  /**
   * A client that shuts down its sending side after pipelining more GETs than the pending bound:
   * the connection stays open until every complete request is answered (those held back by the
   * bound too), then closes; the incomplete request at the end is dropped.
   */
  @Test
  void halfClose_answersEveryCompleteRequest_thenCloses() {
    RespHandler handler = new RespHandler(cache, new Parallelism(0), metrics);
    EmbeddedChannel ch = new EmbeddedChannel(
        new RespDecoder(64 * 1024, null, handler::directRead, handler::acceptingRequests), handler);
    int gets = ClientHandler.MAX_PENDING + 10;
    write(ch, java.util.stream.IntStream.range(0, gets)
        .mapToObj(i -> "GET k" + i + "\r\n").collect(java.util.stream.Collectors.joining()) + "*2\r\n$3\r\nGE");
    assertThat(cache.reads).hasSize(ClientHandler.MAX_PENDING); // the rest held back, undecoded
    ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
    ch.runPendingTasks();
    assertThat(ch.isOpen()).as("replies outstanding").isTrue();

    for (int i = 0; i < gets; i++) {
      assertThat(ch.isOpen()).as("open until the last reply").isTrue();
      cache.slow.get("k" + i).complete(("v" + i).getBytes(UTF_8));
      ch.runPendingTasks();
    }
    String replies = output(ch);
    assertThat(replies).startsWith("$2\r\nv0\r\n$2\r\nv1\r\n").endsWith("$5\r\nv" + (gets - 1) + "\r\n");
    assertThat(cache.reads).hasSize(gets);
    assertThat(ch.isOpen()).as("closed once everything sent was answered").isFalse();
  }

  @Test
  void halfClose_withNothingOutstanding_closes() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "PING\r\n");
    ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
    assertThat(output(ch)).isEqualTo("+PONG\r\n");
    assertThat(ch.isOpen()).isFalse();
  }

  /**
   * A client pipelining GETs of a 10 KB value and not reading (its socket takes nothing: flushes
   * are held): the replies queued for it stay within the write-buffer high water mark plus one
   * reply, the rest of its requests wait undecoded, and once it reads, every one is answered in
   * order.
   */
  @Test
  void clientNotReading_queuedRepliesStayWithinTheBound_andAllAreAnsweredOnceItReads() {
    byte[] big = new byte[10_000];
    java.util.Arrays.fill(big, (byte) 'v');
    cache.values.put("big", big);
    int highWaterMark = 16 * 1024;
    java.util.concurrent.atomic.AtomicBoolean socketFull = new java.util.concurrent.atomic.AtomicBoolean(true);
    RespHandler handler = new RespHandler(cache, new Parallelism(0), metrics);
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(highWaterMark / 2, highWaterMark));
    ch.pipeline().addLast(
        new ChannelOutboundHandlerAdapter() {
          @Override
          public void flush(ChannelHandlerContext ctx) {
            if (!socketFull.get()) {
              ctx.flush();
            }
          }
        },
        new RespDecoder(64 * 1024, null, handler::directRead, handler::acceptingRequests),
        handler);
    int requests = 200;
    write(ch, "GET big\r\n".repeat(requests));
    long queued = ch.unsafe().outboundBuffer().totalPendingWriteBytes();
    assertThat(queued).as("reply bytes queued for a client that does not read")
        .isPositive().isLessThanOrEqualTo(highWaterMark + big.length + 16);
    assertThat(ch.config().isAutoRead()).isFalse();

    socketFull.set(false);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 10_000 && count(out, "$10000\r\n") < requests; i++) {
      ch.flush();
      out.append(output(ch));
    }
    assertThat(count(out, "$10000\r\n")).isEqualTo(requests);
    assertThat(out.length()).isEqualTo(requests * (big.length + 10));
    assertThat(ch.config().isAutoRead()).isTrue();
  }

  private static int count(CharSequence text, String part) {
    int n = 0;
    for (int i = text.toString().indexOf(part); i >= 0; i = text.toString().indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void redisUnavailable_isAnErrorReply_andTheConnectionStaysOpen() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "GET k\r\n");
    cache.slow.get("k").completeExceptionally(new BackendUnavailableException("Redis at x is down", null));
    assertThat(output(ch)).startsWith("-ERR Redis is unavailable: Redis at x is down");
    write(ch, "PING\r\n");
    assertThat(output(ch)).isEqualTo("+PONG\r\n");
  }

  @Test
  void unknownCommand_quotesItLikeRedis() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n");
    assertThat(output(ch)).isEqualTo("-ERR unknown command 'SET', with args beginning with: 'k' 'v\\x0d\\x0a' \r\n");
    assertThat(ch.isActive()).isTrue();
  }

  @Test
  void wrongArity() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "GET\r\nGET a b\r\nECHO\r\nPING a b\r\nMGET\r\n");
    assertThat(output(ch)).isEqualTo(
        "-ERR wrong number of arguments for 'get' command\r\n"
            + "-ERR wrong number of arguments for 'get' command\r\n"
            + "-ERR wrong number of arguments for 'echo' command\r\n"
            + "-ERR wrong number of arguments for 'ping' command\r\n"
            + "-ERR wrong number of arguments for 'mget' command\r\n");
  }

  @Test
  void binaryKey_isReadAsItsBytes_andServed() {
    // Keys are binary, as in Redis: C3 28 (not UTF-8) and C0 AF (an overlong '/') are keys of
    // their own, never decoded, never mapped onto another key.
    cache.values.put("\u00c3(", "binary".getBytes(UTF_8));
    EmbeddedChannel ch = channel(new Parallelism(16));
    ByteBuf frame = Unpooled.buffer();
    frame.writeCharSequence("*2\r\n$3\r\nGET\r\n$2\r\n", UTF_8);
    frame.writeBytes(new byte[] {(byte) 0xc3, (byte) 0x28, '\r', '\n'});
    frame.writeCharSequence("*3\r\n$4\r\nMGET\r\n$2\r\n", UTF_8);
    frame.writeBytes(new byte[] {(byte) 0xc0, (byte) 0xaf, '\r', '\n'});
    frame.writeCharSequence("$2\r\n", UTF_8);
    frame.writeBytes(new byte[] {(byte) 0xc3, (byte) 0x28, '\r', '\n'});
    ch.writeInbound(frame);
    assertThat(output(ch)).isEqualTo("$6\r\nbinary\r\n*2\r\n$-1\r\n$6\r\nbinary\r\n");
    assertThat(cache.reads).containsExactly("\u00c3(", "\u00c0\u00af", "\u00c3(");
  }

  @Test
  void pingEchoCommand() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "PING\r\nPING hi\r\nECHO there\r\nCOMMAND COUNT\r\nCOMMAND NOPE\r\n");
    assertThat(output(ch)).isEqualTo("+PONG\r\n$2\r\nhi\r\n$5\r\nthere\r\n:6\r\n"
        + "-ERR unknown subcommand 'NOPE'. Try COMMAND HELP.\r\n");
  }

  @Test
  void commandInfo_namingACommandAThousandTimes_isRefused_notBuiltPastTheBuiltReplyBound() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "COMMAND INFO" + " get".repeat(1_000) + "\r\nCOMMAND INFO get nope\r\n");
    String output = output(ch);
    assertThat(output).startsWith("-ERR COMMAND INFO reply over 65536 bytes: ask for fewer commands at a time\r\n");
    assertThat(output.substring(output.indexOf("\r\n") + 2)).as("the next command is answered")
        .startsWith("*2\r\n*").endsWith("*-1\r\n");
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void quit_repliesOkAndCloses() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "QUIT\r\nPING\r\n");
    assertThat(output(ch)).isEqualTo("+OK\r\n");
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void protocolError_isAnsweredAfterEarlierReplies_andCloses() {
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "GET slow\r\n*1\r\n:1\r\n");
    assertThat(output(ch)).isEmpty();
    cache.slow.get("slow").complete(null);
    assertThat(output(ch)).isEqualTo("$-1\r\n-ERR Protocol error: expected '$', got ':'\r\n");
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void mget_ofMoreKeysThanAConnectionMayHavePending_isRefused_andTheConnectionStaysOpen() {
    EmbeddedChannel ch = channel(new Parallelism(0));
    StringBuilder mget = new StringBuilder("MGET");
    for (int i = 0; i <= ClientHandler.MAX_PENDING; i++) {
      mget.append(" k").append(i);
    }
    write(ch, mget + "\r\nPING\r\n");
    assertThat(output(ch)).isEqualTo("-ERR MGET of " + (ClientHandler.MAX_PENDING + 1) + " keys: a request may read at most "
        + ClientHandler.MAX_PENDING + " keys (MAX_PENDING_REQUESTS)\r\n+PONG\r\n");
    assertThat(cache.reads).as("nothing read").isEmpty();
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void mget_countsEachOfItsKeysAgainstThePendingBound() {
    cache.slowGetAll = new CompletableFuture<>();
    RespHandler handler = new RespHandler(cache, new Parallelism(0), metrics, 8);
    EmbeddedChannel ch = new EmbeddedChannel(new RespDecoder(64 * 1024, null, handler::directRead), handler);
    write(ch, "MGET a b c d e f g\r\n");
    assertThat(ch.config().isAutoRead()).as("7 keys pending, of 8").isTrue();
    write(ch, "MGET h\r\n");
    assertThat(ch.config().isAutoRead()).as("8 keys pending").isFalse();
    cache.slowGetAll.complete(Map.of());
    assertThat(output(ch)).startsWith("*7\r\n$-1\r\n");
    assertThat(ch.config().isAutoRead()).isTrue();
    ch.finishAndReleaseAll();
  }

  @Test
  void mget_ofALargeValueNamedManyTimes_isStreamedInChunks_asTheSocketTakesThem() {
    byte[] big = new byte[100_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) ('a' + i % 26);
    }
    cache.values.put("big", big);
    cache.values.put("small", "s".getBytes(UTF_8));
    EmbeddedChannel ch = channel(new Parallelism(0));
    int times = 60; // a 6 MB reply from one 100 kB value
    ChannelOutboundBuffer socket = ch.unsafe().outboundBuffer();
    socket.setUserDefinedWritability(1, false); // a client that reads nothing yet

    write(ch, "MGET" + " big small nokey".repeat(times) + "\r\nPING\r\n");

    List<ByteBuf> queued = new ArrayList<>();
    for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
      queued.add((ByteBuf) o);
    }
    assertThat(queued).as("nothing written while the socket is full, the PING behind it included").isEmpty();
    assertThat(ch.config().isAutoRead()).as("no further request is read meanwhile").isFalse();

    socket.setUserDefinedWritability(1, true); // the client reads
    ch.runPendingTasks();
    ByteArrayOutputStream reply = new ByteArrayOutputStream();
    int chunks = 0;
    for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
      ByteBuf buf = (ByteBuf) o;
      assertThat(buf.readableBytes()).as("chunk " + chunks).isLessThanOrEqualTo(ClientHandler.STREAM_CHUNK_BYTES);
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      reply.writeBytes(bytes);
      buf.release();
      chunks++;
    }
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(("*" + 3 * times + "\r\n").getBytes(UTF_8));
    for (int i = 0; i < times; i++) {
      expected.writeBytes(("$" + big.length + "\r\n").getBytes(UTF_8));
      expected.writeBytes(big);
      expected.writeBytes("\r\n$1\r\ns\r\n$-1\r\n".getBytes(UTF_8));
    }
    expected.writeBytes("+PONG\r\n".getBytes(UTF_8));
    assertThat(chunks).as("chunks").isGreaterThan(times);
    assertThat(reply.toByteArray()).as("the whole reply, then the PING's").isEqualTo(expected.toByteArray());
    assertThat(ch.config().isAutoRead()).isTrue();
    assertThat(ch.isOpen()).isTrue();
  }

  /**
   * A client that reads as fast as the chunks come never fills the socket: the reply must still
   * go out a bounded number of chunks per event-loop task, the rest in later tasks, so that the
   * loop's other connections are served in between.
   */
  @Test
  void mget_streamedToAClientThatKeepsUp_yieldsTheEventLoopBetweenTurns() {
    byte[] big = new byte[100_000];
    cache.values.put("big", big);
    EmbeddedChannel ch = channel(new Parallelism(0));
    // Not writeInbound, nor a read-complete event: an embedded channel runs its pending tasks then.
    ch.pipeline().fireChannelRead(Unpooled.copiedBuffer("MGET" + " big".repeat(60) + "\r\n", ISO_8859_1));

    long firstTurn = drainOutbound(ch);
    assertThat(firstTurn).as("bytes written in the first task")
        .isLessThanOrEqualTo((long) ClientHandler.STREAM_CHUNKS_PER_TURN * ClientHandler.STREAM_CHUNK_BYTES);
    ch.runPendingTasks();
    long rest = drainOutbound(ch);
    assertThat(firstTurn + rest).as("the whole reply, over later tasks")
        .isEqualTo(("*60\r\n").length() + 60L * (("$" + big.length + "\r\n").length() + big.length + 2));
  }

  private static long drainOutbound(EmbeddedChannel ch) {
    long bytes = 0;
    for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
      ByteBuf buf = (ByteBuf) o;
      bytes += buf.readableBytes();
      buf.release();
    }
    return bytes;
  }

  @Test
  void mget_streamedReply_keepsItsPlace_amongPipelinedReplies() {
    byte[] big = new byte[70_000];
    cache.values.put("big", big);
    cache.slowGetAll = new CompletableFuture<>();
    EmbeddedChannel ch = channel(new Parallelism(16));
    write(ch, "PING\r\nMGET big big\r\nPING\r\n");
    assertThat(output(ch)).isEqualTo("+PONG\r\n"); // the MGET's read is pending: the second PING waits
    cache.slowGetAll.complete(Map.of(RedisKey.wrap("big".getBytes(UTF_8)), big));
    String header = "$" + big.length + "\r\n";
    String value = new String(big, ISO_8859_1);
    assertThat(output(ch)).isEqualTo("*2\r\n" + header + value + "\r\n" + header + value + "\r\n+PONG\r\n");
  }

  @Test
  void replyThatCannotBeMade_isAnErrorAndCloses_insteadOfHoldingLaterReplies() {
    cache.slowGetAll = new CompletableFuture<>();
    EmbeddedChannel ch = channel(new Parallelism(0));
    write(ch, "MGET a\r\nPING\r\n");
    assertThat(output(ch)).isEmpty();
    cache.slowGetAll.complete(new java.util.AbstractMap<>() { // a map that fails when read
      @Override
      public java.util.Set<Map.Entry<RedisKey, byte[]>> entrySet() {
        throw new IllegalStateException("broken");
      }

      @Override
      public byte[] get(Object key) {
        throw new IllegalStateException("broken");
      }
    });
    assertThat(output(ch)).isEqualTo("-ERR internal error: the reply could not be made\r\n");
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
  }

  private static void write(EmbeddedChannel ch, String s) {
    ch.writeInbound(Unpooled.copiedBuffer(s, ISO_8859_1));
    ch.runPendingTasks();
  }

  private static String output(EmbeddedChannel ch) {
    ch.runPendingTasks();
    StringBuilder sb = new StringBuilder();
    for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
      ByteBuf buf = (ByteBuf) o;
      sb.append(buf.toString(ISO_8859_1));
      buf.release();
    }
    return sb.toString();
  }
}
