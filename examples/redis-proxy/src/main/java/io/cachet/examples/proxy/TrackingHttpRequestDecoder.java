package io.cachet.examples.proxy;

import static io.cachet.examples.support.HttpErrors.MAX_HEADER_SIZE;
import static io.cachet.examples.support.HttpErrors.MAX_INITIAL_LINE;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Netty's HTTP request decoder, also telling a {@link RequestDeadline} whether a request has
 * started and is not complete (bytes consumed since the last {@link LastHttpContent}), so a
 * client trickling a request ("slowloris") is disconnected after the request timeout.
 */
final class TrackingHttpRequestDecoder extends HttpRequestDecoder {

  private final @Nullable RequestDeadline deadline;
  private boolean incomplete;
  private boolean done;

  TrackingHttpRequestDecoder(@Nullable RequestDeadline deadline) {
    super(new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_INITIAL_LINE)
        .setMaxHeaderSize(MAX_HEADER_SIZE)
        .setMaxChunkSize(16 * 1024));
    this.deadline = deadline;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (done) {
      in.skipBytes(in.readableBytes());
      return;
    }
    int before = in.readerIndex();
    int produced = out.size();
    super.decode(ctx, in, out);
    for (int i = produced; i < out.size(); i++) {
      incomplete = !(out.get(i) instanceof LastHttpContent);
    }
    if (out.size() == produced && (in.readerIndex() != before || in.isReadable())) {
      incomplete = true; // bytes of a request that has not produced its next part yet
    }
    if (deadline != null) {
      deadline.update(ctx, incomplete);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof RequestDeadline.TimedOut) {
      done = true; // the handler answers 408 and closes; ignore whatever else arrives
    }
    super.userEventTriggered(ctx, evt);
  }
}
