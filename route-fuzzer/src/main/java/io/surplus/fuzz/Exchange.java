package io.surplus.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A request the fuzzer sends, and what came back. */
final class Exchange {

  static final ObjectMapper MAPPER = new ObjectMapper();

  private Exchange() {}

  /** Checks an answer against what the request meant; a sentence when it is wrong, else null. */
  @FunctionalInterface
  interface Oracle {
    String check(Answer a);
  }

  /** Learns from an answer: ids, cursors, applied feed lines, the ledger of what succeeded. */
  @FunctionalInterface
  interface Learn {
    void from(Answer a);
  }

  /**
   * One request: the route it exercises (the document's {@code METHOD /template}), the method and
   * path with query as sent, headers in order, the body, the caller's role, the class of input it
   * tries (for grouping failures), an optional oracle, and the tags that quarantine it after hangs.
   */
  record Request(
      long index,
      String route,
      String method,
      String pathAndQuery,
      List<String[]> headers,
      byte[] body,
      String role,
      String inputClass,
      Oracle oracle,
      Learn learn,
      List<String> tags) {

    String bodyText() {
      return body == null ? null : new String(body, StandardCharsets.UTF_8);
    }
  }

  /**
   * An answer: status (0 when none came), headers, body, time taken, and the error if none came.
   */
  record Answer(
      int status, Map<String, List<String>> headers, byte[] body, long nanos, String error) {

    String header(String name) {
      if (headers == null) {
        return null;
      }
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey() != null && e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    String text() {
      return body == null ? "" : new String(body, StandardCharsets.UTF_8);
    }

    /** The body as JSON, or null when it is not JSON. */
    JsonNode json() {
      if (body == null || body.length == 0) {
        return null;
      }
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        return null;
      }
    }

    boolean ok() {
      return status >= 200 && status < 300;
    }

    boolean refused() {
      return status >= 400 && status < 500;
    }

    /** The problem document's {@code type}, or "" when there is none. */
    String problemType() {
      JsonNode j = json();
      return j == null ? "" : j.path("type").asText("");
    }

    boolean isProblemJson() {
      String ct = header("Content-Type");
      return ct != null && ct.toLowerCase(Locale.ROOT).startsWith("application/problem+json");
    }
  }

  static List<String[]> headers() {
    return new ArrayList<>();
  }
}
