package io.surplus.engine;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The instants Surplus takes from outside: ISO-8601 / RFC 3339 UTC instants with a four-digit year,
 * {@code 0001-01-01T00:00:00Z} to {@code 9999-12-31T23:59:59.999999999Z}. {@link Instant#parse}
 * alone takes years up to a billion, whose epoch milliseconds overflow a {@code long}; every
 * instant in this range has epoch milliseconds, so arithmetic on them cannot throw. Whether an
 * instant makes sense for a market (past, horizon) is the caller's rule, checked after this one.
 */
public final class Instants {

  /** The earliest instant taken. */
  public static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");

  /** The latest instant taken. */
  public static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999999Z");

  private Instants() {}

  /** The instant {@code text} names, or null if it is not one in the range taken. */
  public static Instant parse(String text) {
    if (text == null || text.length() > 40) {
      return null;
    }
    try {
      Instant i = Instant.parse(text);
      return i.isBefore(EARLIEST) || i.isAfter(LATEST) ? null : i;
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
