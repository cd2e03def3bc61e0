package io.surplus.fuzz;

import io.surplus.fuzz.Exchange.Request;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A request as a curl command line that sends the same bytes. */
final class Curl {

  /** Bodies longer than this, or not printable as shell text, go to a file beside the report. */
  static final int INLINE_BODY = 2_000;

  private Curl() {}

  static String of(URI base, Request r, Path out) {
    StringBuilder b = new StringBuilder("curl -sS -i --max-time 60 -X ");
    b.append(quote(r.method())).append(' ').append(quote(base + r.pathAndQuery()));
    boolean contentType = false;
    for (String[] h : r.headers()) {
      b.append(" -H ").append(quote(h[0] + ": " + h[1]));
      contentType |= h[0].equalsIgnoreCase("Content-Type");
    }
    if (r.body() != null) {
      if (!contentType) {
        b.append(" -H 'Content-Type:'"); // curl would add a form content type
      }
      String text = new String(r.body(), StandardCharsets.UTF_8);
      boolean printable =
          r.body().length <= INLINE_BODY
              && java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), r.body())
              && text.chars().allMatch(c -> c >= 0x20 || c == '\n' || c == '\t');
      if (printable) {
        b.append(" --data-binary ").append(quote(text));
      } else {
        Path file = out.resolve("request-" + r.index() + ".body");
        try {
          Files.createDirectories(out);
          Files.write(file, r.body());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        b.append(" --data-binary @").append(quote(file.toAbsolutePath().toString()));
      }
    }
    return b.toString();
  }

  /** A shell word in single quotes. */
  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
