package io.surplus.market.http;

import io.surplus.engine.Instants;
import io.surplus.engine.Price;
import java.time.Instant;

/**
 * The API's shared field formats, parsed with a problem naming the field: prices (USD per
 * GPU-hour), amounts of money (USD), instants, and the longest notice a bid may ask for or a window
 * promise. Bids, windows and accounts all take these, so they live here, in a leaf every feature
 * may use.
 */
public final class Fields {

  private Fields() {}

  /** The longest notice a bid may ask for: a day. */
  public static final int MAX_NOTICE_SECONDS = 86_400;

  /** A price field in micro-dollars: a positive decimal string with at most six decimals. */
  public static long price(String field, String text) {
    if (text == null) {
      throw Problem.missing(field).failure();
    }
    long micros;
    try {
      micros = Price.parse(text);
    } catch (IllegalArgumentException e) {
      throw Problem.invalid(
              field,
              field
                  + " must be a decimal string of USD per GPU-hour with at most "
                  + Price.MAX_DECIMALS
                  + " decimals, at most "
                  + Price.format(Price.MAX_MICROS)
                  + ": got '"
                  + text
                  + "'")
          .failure();
    }
    if (micros <= 0) {
      throw Problem.invalid(field, field + " must be greater than zero").failure();
    }
    return micros;
  }

  /** Largest amount of money a field may hold: a billion dollars. */
  public static final long MAX_AMOUNT_MICROS = 1_000_000_000L * Price.MICROS_PER_DOLLAR;

  /** An amount of USD (not a price per GPU-hour) in micro-dollars: a decimal string, >= 0. */
  public static long amount(String field, String text) {
    if (text == null) {
      throw Problem.missing(field).failure();
    }
    try {
      if (!text.matches("[0-9]{1,10}(\\.[0-9]{1,6})?")) {
        throw new NumberFormatException();
      }
      long micros = new java.math.BigDecimal(text).movePointRight(6).longValueExact();
      if (micros > MAX_AMOUNT_MICROS) {
        throw new NumberFormatException();
      }
      return micros;
    } catch (NumberFormatException | ArithmeticException e) {
      throw Problem.invalid(
              field,
              field + " must be a decimal string of USD, at most 6 decimals and $1,000,000,000")
          .failure();
    }
  }

  /** An instant field: ISO-8601 with a four-digit year ({@link Instants}). */
  public static Instant instant(String field, String text) {
    if (text == null) {
      throw Problem.missing(field).failure();
    }
    Instant instant = Instants.parse(text);
    if (instant == null) {
      throw Problem.invalid(
              field,
              field
                  + " must be an ISO-8601 instant with a four-digit year such as"
                  + " 2026-11-23T08:00:00Z")
          .failure();
    }
    return instant;
  }
}
