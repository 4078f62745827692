package io.cachet.testkit.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class TcpRelayTest {

  private ServerSocket echo;
  private Thread echoThread;
  private TcpRelay relay;

  @BeforeEach
  void startEchoServerAndRelay() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    echoThread = new Thread(() -> {
      while (!echo.isClosed()) {
        try {
          Socket s = echo.accept();
          Thread t = new Thread(() -> {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
              in.transferTo(out);
            } catch (IOException e) {
              // the test closed or cut it
            }
          });
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    });
    echoThread.setDaemon(true);
    echoThread.start();
    relay = TcpRelay.start("127.0.0.1", echo.getLocalPort());
  }

  @AfterEach
  void stop() throws IOException {
    relay.close();
    echo.close();
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), relay.port());
    socket.setSoTimeout(10_000);
    return socket;
  }

  private static String roundTrip(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return read(socket, text.length());
  }

  private static String read(Socket socket, int length) throws IOException {
    byte[] bytes = socket.getInputStream().readNBytes(length);
    return new String(bytes, StandardCharsets.US_ASCII);
  }

  @Test
  void start_onAChosenPort_listensThere() throws IOException {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    try (TcpRelay chosen = TcpRelay.start(port, "127.0.0.1", echo.getLocalPort());
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(10_000);
      assertThat(chosen.port()).isEqualTo(port);
      assertThat(roundTrip(socket, "chosen")).isEqualTo("chosen");
    }
  }

  @Test
  void pass_forwardsBothWays() throws IOException {
    try (Socket socket = connect()) {
      assertThat(roundTrip(socket, "hello")).isEqualTo("hello");
      // The count moves just after the bytes are written, so it may trail the reply a moment.
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> relay.forwardedBytes() == 10);
      assertThat(relay.openConnections()).isEqualTo(1);
    }
  }

  @Test
  void blackHole_answersNothingClosesNothing_thenDeliversInOrderOnceHealed() throws IOException {
    try (Socket socket = connect()) {
      assertThat(roundTrip(socket, "a")).isEqualTo("a");
      relay.blackHole();
      socket.getOutputStream().write("bc".getBytes(StandardCharsets.US_ASCII));
      socket.setSoTimeout(300);
      assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
      assertThat(socket.isClosed()).isFalse();
      relay.pass();
      socket.setSoTimeout(10_000);
      assertThat(read(socket, 2)).isEqualTo("bc");
    }
  }

  @Test
  void blackHole_newConnectionsAreAcceptedButNotAnswered() throws IOException {
    relay.blackHole();
    try (Socket socket = connect()) {
      socket.getOutputStream().write('x');
      socket.setSoTimeout(300);
      assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
      assertThat(relay.acceptedConnections()).isEqualTo(1);
      relay.pass();
      socket.setSoTimeout(10_000);
      assertThat(read(socket, 1)).isEqualTo("x");
    }
  }

  @Test
  void cut_resetsOpenConnections_newOnesWork() throws IOException {
    try (Socket socket = connect()) {
      assertThat(roundTrip(socket, "a")).isEqualTo("a");
      relay.cut();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> relay.openConnections() == 0);
      assertThatThrownBy(() -> {
            for (int i = 0; i < 100; i++) {
              socket.getOutputStream().write('x');
              if (socket.getInputStream().read() < 0) {
                throw new IOException("end of stream");
              }
            }
          })
          .isInstanceOf(IOException.class);
    }
    try (Socket again = connect()) {
      assertThat(roundTrip(again, "b")).isEqualTo("b");
    }
  }

  @Test
  void delay_holdsEachChunkAtLeastThatLong() throws IOException {
    relay.delay(Duration.ofMillis(200));
    try (Socket socket = connect()) {
      long start = System.nanoTime();
      assertThat(roundTrip(socket, "slow")).isEqualTo("slow");
      // Both directions are delayed: at least twice the delay, whatever the machine's speed.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
    }
  }

  @Test
  void delay_negative_rejected() {
    assertThatThrownBy(() -> relay.delay(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("delay must be >= 0, was PT-0.001S");
  }
}
