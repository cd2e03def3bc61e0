package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * How the tables show the API's values. Money stays the API's decimal string, never a floating
 * point number; instants are shown in UTC without the {@code T} and, on a whole minute (every slot
 * boundary), without seconds.
 */
final class Fmt {

  private static final DateTimeFormatter MINUTES =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private Fmt() {}

  /** The field's text, or null when absent or JSON null. */
  static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  /** An ISO-8601 instant for a table: {@code 2026-11-23 08:00} (UTC); null stays null. */
  static String instant(String iso) {
    if (iso == null) {
      return null;
    }
    try {
      Instant t = Instant.parse(iso);
      return (t.getEpochSecond() % 60 == 0 && t.getNano() == 0 ? MINUTES : SECONDS).format(t);
    } catch (DateTimeParseException e) {
      return iso;
    }
  }

  static String instant(JsonNode node, String field) {
    return instant(text(node, field));
  }

  /** Minutes as {@code 45m}, {@code 2h}, {@code 1h30m}, {@code 3d4h}. */
  static String minutes(long minutes) {
    long d = minutes / 1440;
    long h = minutes % 1440 / 60;
    long m = minutes % 60;
    StringBuilder s = new StringBuilder();
    if (d > 0) {
      s.append(d).append('d');
    }
    if (h > 0) {
      s.append(h).append('h');
    }
    if (m > 0 || s.length() == 0) {
      s.append(m).append('m');
    }
    return s.toString();
  }

  /** Seconds as {@link #minutes} does, with a seconds part when there is one. */
  static String seconds(long seconds) {
    if (seconds % 60 == 0) {
      return minutes(seconds / 60);
    }
    return (seconds >= 60 ? minutes(seconds / 60) : "") + seconds % 60 + "s";
  }
}
