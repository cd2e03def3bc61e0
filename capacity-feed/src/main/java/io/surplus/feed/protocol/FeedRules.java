package io.surplus.feed.protocol;

import io.surplus.engine.Price;
import io.surplus.engine.WindowSpec;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * The rules one feed line must keep, shared by {@link FeedParser} (which reports a broken rule as a
 * {@link FeedError}) and the event records (which throw on misuse). Each check returns {@code null}
 * when the value is fine, otherwise the rule as a phrase ("must be > 0"). Rules that need a clock
 * or the provider's state (windows in the past, beyond the horizon, an unknown window id) belong to
 * the service, not here.
 */
public final class FeedRules {

  /** The longest line accepted, in UTF-8 bytes, not counting the line terminator: 16 KiB. */
  public static final int MAX_LINE_BYTES = 16 * 1024;

  /** Nodes per window or per revocation, at most: the engine's largest window. */
  public static final int MAX_NODES = WindowSpec.MAX_NODES;

  /** GPUs per node when {@code window.opened} leaves {@code gpusPerNode} out. */
  public static final int DEFAULT_GPUS_PER_NODE = 8;

  /** GPUs per node, at most. */
  public static final int MAX_GPUS_PER_NODE = 64;

  /** The longest notice a window may promise: 7 days. */
  public static final int MAX_NOTICE_SECONDS = 7 * 24 * 3600;

  /** Window ids and pool names: 1-64 letters, digits, '.', '_' or '-'. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** Region names: 1-32 letters, digits, '.', '_' or '-'. */
  public static final Pattern REGION = Pattern.compile("[A-Za-z0-9._-]{1,32}");

  private static final Pattern DECIMAL = Pattern.compile("[0-9]+(\\.[0-9]+)?");

  private FeedRules() {}

  public static String name(String value) {
    return value != null && NAME.matcher(value).matches()
        ? null
        : "must be 1-64 letters, digits, '.', '_' or '-'";
  }

  public static String region(String value) {
    return value != null && REGION.matcher(value).matches()
        ? null
        : "must be 1-32 letters, digits, '.', '_' or '-'";
  }

  public static String positive(long value, long max) {
    if (value <= 0) {
      return "must be > 0";
    }
    return value > max ? "must be at most " + max : null;
  }

  public static String notice(long seconds) {
    if (seconds < 0) {
      return "must be >= 0";
    }
    return seconds > MAX_NOTICE_SECONDS ? "must be at most " + MAX_NOTICE_SECONDS : null;
  }

  public static String seq(long seq) {
    return seq > 0 ? null : "must be > 0";
  }

  /** A price: a plain decimal string, at most 6 decimals, {@code > 0} and at most $1,000. */
  public static String price(String text) {
    String shape = decimalShape(text);
    if (shape != null) {
      return shape;
    }
    long micros = Price.parse(text);
    if (micros <= 0) {
      return "must be > 0";
    }
    return null;
  }

  /** A probability: a plain decimal string in {@code [0, 1]} with at most 6 decimals. */
  public static String confidence(String text) {
    String shape = decimalShape(text);
    if (shape != null) {
      return shape;
    }
    return Price.parse(text) > 1_000_000L ? "must be between 0 and 1" : null;
  }

  /** Parses a value that {@link #confidence(String)} accepted into parts per million. */
  public static int confidencePpm(String text) {
    return Math.toIntExact(Price.parse(text));
  }

  public static String confidencePpm(int ppm) {
    return ppm >= 0 && ppm <= 1_000_000 ? null : "must be between 0 and 1";
  }

  /** The rule {@code end} breaks when it does not come after {@code start}, or {@code null}. */
  public static String after(Instant start, Instant end) {
    return end.isAfter(start) ? null : "must be after start";
  }

  private static String decimalShape(String text) {
    if (text == null || !DECIMAL.matcher(text).matches()) {
      return "must be a plain decimal string such as \"2.45\"";
    }
    int dot = text.indexOf('.');
    if (dot >= 0 && text.length() - dot - 1 > Price.MAX_DECIMALS) {
      return "must have at most " + Price.MAX_DECIMALS + " decimals";
    }
    int units = dot >= 0 ? dot : text.length();
    long whole = 0;
    for (int i = 0; i < units; i++) {
      whole = whole * 10 + (text.charAt(i) - '0');
      if (whole > Price.MAX_MICROS / Price.MICROS_PER_DOLLAR) {
        return "must be at most " + Price.format(Price.MAX_MICROS);
      }
    }
    // Checked here because Price.parse throws past the maximum rather than reporting it.
    if (whole == Price.MAX_MICROS / Price.MICROS_PER_DOLLAR
        && dot >= 0
        && !text.substring(dot + 1).chars().allMatch(c -> c == '0')) {
      return "must be at most " + Price.format(Price.MAX_MICROS);
    }
    return null;
  }

  static void require(String field, String brokenRule) {
    if (brokenRule != null) {
      throw new IllegalArgumentException(field + " " + brokenRule);
    }
  }
}
