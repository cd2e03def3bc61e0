package io.surplus.market.ids;

import java.util.Locale;

/**
 * The marketplace's ids and the forms they take on the wire, in one place. A bid's or a window's id
 * is its account's id in the high bits and the account's own sequence in the low {@link #SEQ_BITS}:
 * {@code bid_<account>_<sequence>}, {@code win_<account>_<sequence>}. A lease is numbered per
 * market: {@code lease_<gpuModel>_<n>}. A pool goes by {@code pool-} and six hex digits of its key.
 * Parsers answer -1 or null for text that is not such an id; the caller names the field.
 */
public final class Ids {

  /** Bits of an id that hold its account's own sequence. */
  public static final int SEQ_BITS = 32;

  private static final long SEQ_MASK = (1L << SEQ_BITS) - 1;

  private Ids() {}

  /** The id of an account's {@code seq}-th bid or window. */
  public static long of(long account, long seq) {
    return (account << SEQ_BITS) | seq;
  }

  /** The account a bid or window id belongs to. */
  public static long accountOf(long id) {
    return id >>> SEQ_BITS;
  }

  /** {@code bid_<account>_<sequence>}. */
  public static String bid(long id) {
    return "bid_" + accountOf(id) + "_" + (id & SEQ_MASK);
  }

  /** {@code win_<account>_<sequence>}. */
  public static String window(long id) {
    return "win_" + accountOf(id) + "_" + (id & SEQ_MASK);
  }

  /** The id a {@link #bid} text names, or -1 if it names none. */
  public static long parseBid(String text) {
    if (text == null || !text.startsWith("bid_")) {
      return -1;
    }
    String[] parts = text.substring(4).split("_", -1);
    if (parts.length != 2) {
      return -1;
    }
    try {
      long account = Long.parseLong(parts[0]);
      long seq = Long.parseLong(parts[1]);
      if (account <= 0 || account >= (1L << 31) || seq <= 0 || seq > SEQ_MASK) {
        return -1;
      }
      return of(account, seq);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** {@code lease_<gpuModel>_<n>}. */
  public static String lease(String market, long n) {
    return "lease_" + market + "_" + n;
  }

  /** A lease's market and number. */
  public record LeaseRef(String market, long n) {}

  /**
   * The lease a {@link #lease} text names, or null if it names none (the market is not checked).
   */
  public static LeaseRef parseLease(String text) {
    int sep = text == null ? -1 : text.lastIndexOf('_');
    if (text == null || !text.startsWith("lease_") || sep <= 6) {
      return null;
    }
    try {
      return new LeaseRef(text.substring(6, sep), Long.parseLong(text.substring(sep + 1)));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * The name a pool goes by in the API: {@code pool-} and the six hex digits of its {@link
   * io.surplus.engine.WindowSpec#poolKey() key}, as the window timeline shows it and as a bid names
   * the pools it avoids.
   */
  public static String pool(int poolKey) {
    return String.format(Locale.ROOT, "pool-%06x", poolKey);
  }

  /** The key of a pool named as {@link #pool} writes it, or -1 if it is not such a name. */
  public static int parsePool(String label) {
    if (label == null || !label.matches("pool-[0-9a-f]{6}")) {
      return -1;
    }
    return Integer.parseInt(label.substring(5), 16);
  }
}
