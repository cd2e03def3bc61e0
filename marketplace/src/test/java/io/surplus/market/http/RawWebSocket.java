package io.surplus.market.http;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain socket that reads only when told to: the test's client that stops
 * reading. Its receive buffer is small, so the server's writes back up soon after it stops. It
 * reads the server's frames as they are (unmasked; text, close, ping), one at a time.
 */
final class RawWebSocket implements AutoCloseable {

  /** A frame from the server: its opcode and payload. */
  record Frame(int opcode, byte[] payload) {
    static final int TEXT = 0x1;
    static final int CLOSE = 0x8;

    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** A close frame's status code (RFC 6455, 5.5.1), or 1005 when it has none. */
    int closeCode() {
      return payload.length < 2 ? 1005 : ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
    }

    /** A close frame's reason. */
    String closeReason() {
      return payload.length <= 2
          ? ""
          : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final InputStream in;

  private RawWebSocket(Socket socket, InputStream in) {
    this.socket = socket;
    this.in = in;
  }

  /** Connects to {@code uri} (ws://host:port/path?query) and completes the opening handshake. */
  static RawWebSocket open(URI uri, int receiveBuffer) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(receiveBuffer); // before connecting: it sets the window offered
    socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
    socket.setSoTimeout((int) TestService.WAIT.toMillis());
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    String request =
        "GET "
            + uri.getRawPath()
            + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())
            + " HTTP/1.1\r\nHost: "
            + uri.getHost()
            + ":"
            + uri.getPort()
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
            + Base64.getEncoder().encodeToString(nonce)
            + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = new BufferedInputStream(socket.getInputStream(), 512);
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the server closed during the handshake: " + head);
      }
      head.append((char) b);
    }
    if (!head.toString().startsWith("HTTP/1.1 101")) {
      socket.close();
      throw new IOException("no upgrade: " + head);
    }
    return new RawWebSocket(socket, in);
  }

  /** The next frame; blocks until it is in (at most {@link TestService#WAIT}). */
  Frame read() throws IOException {
    int b0 = readByte();
    int b1 = readByte();
    long length = b1 & 0x7f;
    if (length == 126) {
      length = ((long) readByte() << 8) | readByte();
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; i++) {
        length = (length << 8) | readByte();
      }
    }
    if ((b1 & 0x80) != 0) {
      throw new IOException("a server frame must not be masked");
    }
    ByteArrayOutputStream payload = new ByteArrayOutputStream((int) length);
    for (long i = 0; i < length; i++) {
      payload.write(readByte());
    }
    return new Frame(b0 & 0x0f, payload.toByteArray());
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the server closed the connection");
    }
    return b;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
