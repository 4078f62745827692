package io.cachet.examples.support;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Locale;

/**
 * HTTP/1.1 over a plain socket to 127.0.0.1, one request per connection ({@code Connection:
 * close}), for requests no well-behaved client library would send (huge URLs, raw bytes, broken
 * syntax) and for connection-counting tests that must not leave a pooled connection behind. The
 * examples' system tests share it (this module's test jar).
 */
public final class RawHttp {

  /**
   * A response.
   *
   * @param status its status code, 0 when the connection ended without a status line
   * @param head the status line and headers, lower case
   * @param body the body, as UTF-8
   * @param raw everything the server sent, as ISO-8859-1
   */
  public record Response(int status, String head, String body, String raw) {}

  private RawHttp() {}

  /**
   * Sends {@code GET target} and reads the whole response.
   *
   * @param port the server's port on 127.0.0.1
   * @param target the request target, e.g. {@code /health}
   * @return the response
   */
  public static Response get(int port, String target) {
    return send(port, ("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(UTF_8));
  }

  /**
   * Sends {@code request} as is, then reads until the server closes the connection.
   *
   * @param port the server's port on 127.0.0.1
   * @param request the raw request bytes
   * @return the response
   */
  public static Response send(int port, byte[] request) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (IOException e) {
        // The server may answer and close before reading everything; read what it said.
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          all.write(buf, 0, n);
        }
      } catch (IOException e) {
        if (all.size() == 0) {
          throw e;
        }
      }
      return parse(all.toString(ISO_8859_1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads the next response from a keep-alive connection: the head up to the blank line, then
   * {@code Content-Length} bytes of body. For tests that pipeline requests on one socket.
   *
   * @param in the connection's input, buffered by the caller
   * @return the response
   * @throws IOException when the connection ends first
   */
  public static Response readNext(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the connection ended inside a response head: " + head);
      }
      head.append((char) b);
    }
    String lower = head.toString().toLowerCase(Locale.ROOT);
    int at = lower.indexOf("content-length:");
    int length = at < 0 ? 0 : Integer.parseInt(lower.substring(at + 15, lower.indexOf('\r', at)).trim());
    byte[] body = in.readNBytes(length);
    if (body.length < length) {
      throw new IOException("the connection ended inside a body of " + length + " bytes");
    }
    return parse(head + new String(body, ISO_8859_1));
  }

  private static Response parse(String raw) {
    int end = raw.indexOf("\r\n\r\n");
    if (!raw.startsWith("HTTP/1.") || end < 0) {
      return new Response(0, "", "", raw);
    }
    String head = raw.substring(0, end);
    int status = Integer.parseInt(head.substring(9, 12));
    String body = new String(raw.substring(end + 4).getBytes(ISO_8859_1), UTF_8);
    return new Response(status, head.toLowerCase(Locale.ROOT), body, raw);
  }
}
