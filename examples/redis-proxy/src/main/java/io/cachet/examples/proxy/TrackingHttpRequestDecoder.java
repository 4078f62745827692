package io.cachet.examples.proxy;

import static io.cachet.examples.support.HttpErrors.MAX_HEADER_SIZE;
import static io.cachet.examples.support.HttpErrors.MAX_INITIAL_LINE;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Netty's HTTP request decoder, also telling a {@link RequestDeadline} whether a request has
 * started and is not complete (bytes consumed since the last {@link LastHttpContent}), so a
 * client trickling a request ("slowloris") is disconnected after the request timeout; and
 * decoding only while the handler accepts requests ({@link ClientHandler#acceptingRequests()}),
 * so a pipelining client that does not read its replies cannot make them pile up.
 */
final class TrackingHttpRequestDecoder extends HttpRequestDecoder {

  private final @Nullable RequestDeadline deadline;
  private final BooleanSupplier accepting;
  private boolean incomplete;
  private boolean done;

  TrackingHttpRequestDecoder(@Nullable RequestDeadline deadline) {
    this(deadline, () -> true);
  }

  TrackingHttpRequestDecoder(@Nullable RequestDeadline deadline, BooleanSupplier accepting) {
    super(new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_INITIAL_LINE)
        .setMaxHeaderSize(MAX_HEADER_SIZE)
        .setMaxChunkSize(16 * 1024));
    this.deadline = deadline;
    this.accepting = accepting;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (done) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (!incomplete && !accepting.getAsBoolean()) {
      // Between requests and the handler holds all it may: leave the bytes undecoded (the loop
      // calling us stops when nothing was consumed) until it fires a read again.
      if (deadline != null) {
        deadline.update(ctx, false);
      }
      return;
    }
    int before = in.readerIndex();
    int produced = out.size();
    super.decode(ctx, in, out);
    for (int i = produced; i < out.size(); i++) {
      incomplete = !(out.get(i) instanceof LastHttpContent);
    }
    if (out.size() == produced && (in.readerIndex() != before || in.isReadable())
        && (incomplete || in.isReadable() || !onlyLineBreaks(in, before))) {
      // Bytes of a request that has not produced its next part yet. Empty lines between requests,
      // which the decoder skips and RFC 9112 (2.2) says to ignore, start no request.
      incomplete = true;
    }
    if (deadline != null) {
      deadline.update(ctx, incomplete);
    }
  }

  /** Whether the bytes of {@code in} from {@code from} to its reader index are CR, LF, space or tab. */
  private static boolean onlyLineBreaks(ByteBuf in, int from) {
    for (int i = from; i < in.readerIndex(); i++) {
      byte b = in.getByte(i);
      if (b != '\r' && b != '\n' && b != ' ' && b != '\t') {
        return false;
      }
    }
    return true;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().config().isAutoRead() || accepting.getAsBoolean()) {
      super.channelReadComplete(ctx);
      return;
    }
    // Not super's: having fired no message, it would call ctx.read() with auto-read off, undoing
    // the handler's back-pressure.
    discardSomeReadBytes();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof ChannelInputShutdownEvent) {
      // Not super's, which decodes what it can now and drops the rest: requests held back by the
      // handler's back-pressure are still to be answered (ClientHandler#inputShutdown).
      ctx.fireUserEventTriggered(evt);
      return;
    }
    if (evt instanceof RequestDeadline.TimedOut) {
      done = true; // the handler answers 408 and closes; ignore whatever else arrives
    }
    super.userEventTriggered(ctx, evt);
  }
}
