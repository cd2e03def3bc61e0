package io.surplus.engine;

import java.math.BigDecimal;

/**
 * Exact money: prices are integer micro-dollars (USD per GPU-hour times 1,000,000) in a {@code
 * long}. Decimal strings are the only external form; a {@code double} never holds a price.
 */
public final class Price {

  /** Micro-dollars in one dollar. */
  public static final long MICROS_PER_DOLLAR = 1_000_000L;

  /** Decimal places a price may carry: one micro-dollar is the tick. */
  public static final int MAX_DECIMALS = 6;

  /**
   * The highest price the engine accepts, $1,000 per GPU-hour; it keeps (price, arrival) priority
   * keys inside one {@code long}.
   */
  public static final long MAX_MICROS = 1_000L * MICROS_PER_DOLLAR;

  private Price() {}

  /**
   * Parses a decimal string such as {@code "2.45"} into micro-dollars.
   *
   * @throws IllegalArgumentException naming the value when it is not a plain positive decimal with
   *     at most {@value #MAX_DECIMALS} decimals, or exceeds {@link #MAX_MICROS}
   */
  public static long parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("price must be a decimal string: price=" + text);
    }
    long units = 0;
    long fraction = 0;
    int decimals = -1;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '.') {
        if (decimals >= 0 || i == 0 || i == text.length() - 1) {
          throw new IllegalArgumentException("price is not a plain decimal: price=" + text);
        }
        decimals = 0;
      } else if (c >= '0' && c <= '9') {
        if (decimals >= 0) {
          if (++decimals > MAX_DECIMALS) {
            throw new IllegalArgumentException(
                "price has more than " + MAX_DECIMALS + " decimals: price=" + text);
          }
          fraction = fraction * 10 + (c - '0');
        } else {
          units = units * 10 + (c - '0');
          if (units > MAX_MICROS / MICROS_PER_DOLLAR) {
            throw new IllegalArgumentException(
                "price exceeds " + format(MAX_MICROS) + ": price=" + text);
          }
        }
      } else {
        throw new IllegalArgumentException("price is not a plain decimal: price=" + text);
      }
    }
    long scale = 1;
    for (int i = Math.max(decimals, 0); i < MAX_DECIMALS; i++) {
      scale *= 10;
    }
    long micros = units * MICROS_PER_DOLLAR + fraction * scale;
    if (micros > MAX_MICROS) {
      throw new IllegalArgumentException("price exceeds " + format(MAX_MICROS) + ": price=" + text);
    }
    return micros;
  }

  /** Formats micro-dollars as a decimal string with at least two decimals: {@code "2.45"}. */
  public static String format(long micros) {
    return BigDecimal.valueOf(micros, MAX_DECIMALS)
        .stripTrailingZeros()
        .setScale(
            Math.max(2, BigDecimal.valueOf(micros, MAX_DECIMALS).stripTrailingZeros().scale()))
        .toPlainString();
  }

  /**
   * The cost in micro-dollars of {@code nodes x gpusPerNode} GPUs held for {@code seconds} at
   * {@code micros} per GPU-hour, rounded down to the micro-dollar.
   */
  public static long cost(long micros, int nodes, int gpusPerNode, long seconds) {
    return Math.multiplyExact(Math.multiplyExact(micros, (long) nodes * gpusPerNode), seconds)
        / 3600L;
  }
}
