package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * Turns an error answer of the service into one line a person can act on. The service answers
 * errors as RFC 9457 problem documents ({@code type}, {@code title}, {@code status}, {@code
 * detail}, {@code field}); the line carries the title, the detail, the field at fault and the HTTP
 * status, and for some statuses what to do next. 4xx answers exit with {@link
 * SurplusCli#API_ERROR}, 5xx with {@link SurplusCli#UNAVAILABLE}.
 */
final class Problems {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Longest piece of a non-problem body quoted in a message. */
  static final int MAX_QUOTE = 200;

  private Problems() {}

  /**
   * The error for an answer with {@code status} and {@code body}; {@code retryAfter} is the
   * header's value or null; {@code keySource} says where the key came from (or null).
   */
  static CliError error(int status, String body, String retryAfter, String keySource) {
    JsonNode p = parse(body);
    String title = text(p, "title");
    String detail = text(p, "detail");
    String field = text(p, "field");
    if (title == null && detail == null) {
      detail = body == null || body.isBlank() ? "(no body)" : quote(body);
    }
    int retry = seconds(retryAfter);

    String what =
        switch (status) {
          case 401 -> "the API key was refused";
          case 403 -> "this key may not do that";
          case 404 -> "not found";
          case 409 -> "conflict";
          case 503 -> "the service is unavailable";
          default -> title != null ? lowerFirst(title) : "the service answered " + status;
        };
    StringBuilder line = new StringBuilder(what);
    if (detail != null && !detail.equalsIgnoreCase(what)) {
      line.append(": ").append(detail);
    }
    line.append(" (HTTP ").append(status);
    if (field != null) {
      line.append(", field ").append(field);
    }
    line.append(')');
    if (status == 401) {
      line.append(
          keySource == null
              ? "; set " + CliConfig.ENV_KEY + " or key= in the config file"
              : "; check the key in " + keySource);
    } else if (status == 503 && retry >= 0) {
      line.append("; retry in ").append(retry).append(" s");
    }
    int exit = status >= 500 ? SurplusCli.UNAVAILABLE : SurplusCli.API_ERROR;
    return new CliError(exit, line.toString(), status, retry, p == null ? null : body, false);
  }

  private static JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      JsonNode n = MAPPER.readTree(body);
      return n != null && n.isObject() ? n : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String text(JsonNode p, String name) {
    if (p == null || !p.hasNonNull(name)) {
      return null;
    }
    String s = p.get(name).asText();
    return s.isBlank() ? null : s;
  }

  private static int seconds(String retryAfter) {
    if (retryAfter == null) {
      return -1;
    }
    try {
      return Math.max(0, Integer.parseInt(retryAfter.strip()));
    } catch (NumberFormatException e) {
      return -1; // an HTTP date: not worth parsing for a hint
    }
  }

  /** "A field breaks a rule" reads on in lower case; "Idempotency-Key was used" does not. */
  static String lowerFirst(String s) {
    int end = s.indexOf(' ');
    String first = end < 0 ? s : s.substring(0, end);
    return first.length() > 0
            && Character.isUpperCase(first.charAt(0))
            && first.substring(1).chars().allMatch(Character::isLowerCase)
        ? Character.toLowerCase(s.charAt(0)) + s.substring(1)
        : s;
  }

  private static String quote(String body) {
    String flat = body.strip().replaceAll("\\s+", " ");
    return flat.length() <= MAX_QUOTE ? flat : flat.substring(0, MAX_QUOTE) + "...";
  }
}
