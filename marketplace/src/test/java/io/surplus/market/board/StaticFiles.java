package io.surplus.market.board;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A raw HTTP/1.1 client for the static-file tests: it sends the path exactly as written (no client
 * normalizes {@code ..} or decodes {@code %2F} on the way) and reads one response.
 */
final class StaticFiles {

  private final int port;

  StaticFiles(int port) {
    this.port = port;
  }

  record Response(int status, Map<String, String> headers, byte[] content) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String body() {
      return new String(content, StandardCharsets.UTF_8);
    }

    int length() {
      return content.length;
    }

    @Override
    public String toString() {
      return status
          + " "
          + headers
          + " "
          + (content.length < 400 ? body() : content.length + " bytes");
    }
  }

  Response get(String path, String extraHeaders) throws IOException {
    return request("GET", path, extraHeaders);
  }

  Response request(String method, String path, String extraHeaders) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(
          (method
                  + " "
                  + path
                  + " HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port
                  + "\r\n"
                  + extraHeaders
                  + "Connection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      String status = line(in);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String h = line(in); !h.isEmpty(); h = line(in)) {
        int colon = h.indexOf(':');
        headers.put(
            h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
      }
      byte[] content;
      if (headers.containsKey("content-length")) {
        content = in.readNBytes(Integer.parseInt(headers.get("content-length")));
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int n = Integer.parseInt(line(in).split(";")[0].strip(), 16);
            n > 0;
            n = Integer.parseInt(line(in).split(";")[0].strip(), 16)) {
          body.write(in.readNBytes(n));
          line(in);
        }
        content = body.toByteArray();
      } else {
        content = in.readAllBytes();
      }
      return new Response(Integer.parseInt(status.split(" ")[1]), headers, content);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != -1 && c != '\n'; c = in.read()) {
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }
}
