package io.surplus.fuzz;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The hostile values, by the kind of slot they go in. Each is a {@link V}: a label that names its
 * class in reports (so one failure class is one line however often it is hit) and its text, which
 * is a raw JSON token for body fields and a plain string for parameters and headers. {@code refuse}
 * marks a value that no route may accept where that kind of value belongs.
 */
final class Values {

  /** A value: its class label, its text, and whether accepting it is wrong. */
  record V(String label, String text, boolean refuse) {
    static V ok(String label, String text) {
      return new V(label, text, false);
    }

    static V bad(String label, String text) {
      return new V(label, text, true);
    }
  }

  private Values() {}

  static final String DIGITS_1200 = "9".repeat(1200);

  /** Instants out of every range the service keeps, and malformed ones. */
  static List<V> instants(Instant now, Instant horizonEnd, boolean futureField) {
    List<V> v = new ArrayList<>();
    // far-future instants are refused where an instant must lie inside the horizon (an end)
    v.add(new V("year-3100", "3100-01-01T00:00:00Z", futureField));
    v.add(V.ok("year-500", "0500-01-01T00:00:00Z"));
    v.add(new V("year+1e9", "+1000000000-01-01T00:00:00Z", futureField));
    v.add(V.ok("year-1e9", "-1000000000-01-01T00:00:00Z"));
    v.add(new V("instant-max", "+1000000000-12-31T23:59:59.999999999Z", futureField));
    v.add(new V("year-9999", "9999-12-31T23:59:59Z", futureField));
    // past int slots of 15 minutes (year ~63,000), still a long of milliseconds
    v.add(new V("year+100000", "+100000-01-01T00:00:00Z", futureField));
    v.add(V.ok("epoch-0", "1970-01-01T00:00:00Z"));
    v.add(V.bad("not-a-date", "2025-13-45T99:99:99Z"));
    v.add(V.bad("no-zone", "2030-01-01T00:00:00"));
    v.add(V.ok("offset+14", now.plusSeconds(7200).atOffset(ZoneOffset.ofHours(14)).toString()));
    v.add(V.bad("empty", ""));
    v.add(V.bad("date-only", LocalDate.ofInstant(now, ZoneOffset.UTC).plusDays(1).toString()));
    v.add(V.ok("nanos", now.plusSeconds(3600).plusNanos(123_456_789).toString()));
    v.add(V.ok("past-1s", now.minusSeconds(1).toString()));
    v.add(V.ok("horizon-end", horizonEnd.toString()));
    v.add(new V("horizon+1d", horizonEnd.plusSeconds(86_400).toString(), futureField));
    v.add(V.bad("words", "tomorrow"));
    return v;
  }

  /** Integers out of range, too long, fractional, exponent overflow: raw JSON tokens. */
  static List<V> integers(long min, long max) {
    List<V> v = new ArrayList<>();
    v.add(new V("zero", "0", 0 < min));
    v.add(new V("minus-one", "-1", -1 < min));
    v.add(new V("int-max", "2147483647", 2147483647L > max));
    v.add(V.bad("int-max+1", "2147483648"));
    v.add(V.bad("int-min-1", "-2147483649"));
    v.add(V.bad("long-max", "9223372036854775807"));
    v.add(V.bad("long-max+1", "9223372036854775808"));
    v.add(V.bad("long-min", "-9223372036854775808"));
    v.add(V.bad("digits-1200", DIGITS_1200));
    v.add(V.bad("neg-digits-1200", "-" + DIGITS_1200));
    v.add(V.ok("fraction", "1.5"));
    v.add(V.bad("exp-huge", "1e308"));
    v.add(V.bad("exp-overflow", "1e400"));
    v.add(V.ok("exp-tiny", "1e-400"));
    v.add(new V("neg-zero", "-0", 0 < min));
    v.add(new V("max+1", Long.toString(max == Long.MAX_VALUE ? max : max + 1), max < 2147483647L));
    return v;
  }

  /** Decimal-string prices, malformed or out of range, as JSON strings. */
  static List<V> prices() {
    List<V> v = new ArrayList<>();
    v.add(V.bad("zero", q("0")));
    v.add(V.bad("negative", q("-1.00")));
    v.add(V.bad("7-decimals", q("1.0000001")));
    v.add(V.bad("exponent", q("1e3")));
    v.add(V.bad("comma", q("1,50")));
    v.add(V.bad("padded", q(" 1.50")));
    v.add(V.bad("plus", q("+1.50")));
    v.add(V.bad("huge", q("99999999999999999999.99")));
    v.add(V.bad("digits-1200", q(DIGITS_1200)));
    v.add(V.bad("nan", q("NaN")));
    v.add(V.bad("hex", q("0x10")));
    v.add(V.bad("number-not-string", "1.5"));
    v.add(V.ok("edge-1000", q("1000.00")));
    v.add(V.ok("micro", q("0.000001")));
    v.add(V.bad("over-1000", q("1000.000001")));
    return v;
  }

  /** Strings that break parsers, logs and lookups, as JSON strings. */
  static List<V> strings() {
    List<V> v = new ArrayList<>();
    v.add(V.ok("empty", q("")));
    v.add(V.ok("space", q(" ")));
    v.add(V.ok("long-10k", q("a".repeat(10_000))));
    v.add(V.ok("unicode", q("ÿ😀\u202egpu")));
    v.add(V.ok("nul", "\"\\u0000\""));
    v.add(V.ok("newline", "\"a\\nb\""));
    v.add(V.ok("lone-surrogate", "\"\\ud800\""));
    v.add(V.ok("traversal", q("../../etc/passwd")));
    v.add(V.ok("sql", q("' OR '1'='1")));
    v.add(V.ok("jndi", q("${jndi:ldap://127.0.0.1/a}")));
    v.add(V.ok("html", q("<script>alert(1)</script>")));
    v.add(V.ok("format", q("%s%s%n")));
    v.add(V.ok("digits-1200", q(DIGITS_1200)));
    return v;
  }

  /** Values of the wrong JSON type, and shapes that strain the parser: raw JSON. */
  static List<V> confusions(boolean required) {
    List<V> v = new ArrayList<>();
    v.add(new V("null", "null", required));
    v.add(V.bad("true", "true"));
    v.add(V.bad("object", "{}"));
    v.add(V.bad("array", "[]"));
    v.add(V.bad("array-of-null", "[null]"));
    v.add(V.bad("deep-array", "[".repeat(5000) + "]".repeat(5000)));
    v.add(V.bad("deep-object", "{\"a\":".repeat(3000) + "1" + "}".repeat(3000)));
    return v;
  }

  /** A probability in [0, 1] with at most six decimals: 0 and 1 are fine, unlike a price. */
  static List<V> probabilities() {
    return List.of(
        V.ok("zero", q("0")),
        V.ok("one", q("1")),
        V.ok("six-decimals", q("0.999999")),
        V.bad("above-one", q("1.000001")),
        V.bad("two", q("2")),
        V.bad("seven-decimals", q("0.1234567")),
        V.bad("negative", q("-0.5")),
        V.bad("json-number", "0.5"));
  }

  /**
   * Lists of public pool names ({@code pool-} and six hex digits, at most 16, none twice): empty is
   * fine (it avoids nothing).
   */
  static List<V> poolLists() {
    List<String> seventeen = new ArrayList<>();
    for (int i = 0; i < 17; i++) {
      seventeen.add(q(String.format("pool-%06x", i)));
    }
    return List.of(
        V.ok("empty-array", "[]"),
        V.ok("one-pool", "[" + q("pool-00aa11") + "]"),
        V.ok("sixteen-pools", "[" + String.join(",", seventeen.subList(0, 16)) + "]"),
        V.bad("seventeen-pools", "[" + String.join(",", seventeen) + "]"),
        V.bad("repeated", "[" + q("pool-00aa11") + "," + q("pool-00aa11") + "]"),
        V.bad("providers-name", "[" + q("ash-h100-a") + "]"),
        V.bad("upper-hex", "[" + q("pool-00AA11") + "]"),
        V.bad("array-of-null", "[null]"),
        V.bad("array-of-number", "[1]"),
        V.bad("not-an-array", q("pool-00aa11")));
  }

  /** Arrays: empty, oversized, of the wrong items. */
  static List<V> arrays(String goodItem) {
    List<V> v = new ArrayList<>();
    v.add(V.bad("empty-array", "[]"));
    v.add(
        V.ok(
            "array-10k",
            "[" + String.join(",", java.util.Collections.nCopies(10_000, q(goodItem))) + "]"));
    v.add(V.bad("array-of-null", "[null]"));
    v.add(V.bad("array-of-number", "[1]"));
    v.add(V.bad("unknown-item", "[\"nowhere-9\"]"));
    v.add(V.ok("duplicates", "[" + q(goodItem) + "," + q(goodItem) + "]"));
    return v;
  }

  /** Query and path strings that are no valid value of anything. */
  static List<V> params() {
    List<V> v = new ArrayList<>();
    v.add(V.ok("empty", ""));
    v.add(V.ok("long-10k", "a".repeat(10_000)));
    v.add(V.ok("unicode", "ÿ😀\u202e"));
    v.add(V.ok("nul", "\u0000"));
    v.add(V.ok("traversal", "../../etc/passwd"));
    v.add(V.ok("encoded-slash", "a/b"));
    v.add(V.ok("digits-1200", DIGITS_1200));
    v.add(V.ok("negative", "-1"));
    v.add(V.ok("long-max+1", "9223372036854775808"));
    v.add(V.ok("sql", "' OR '1'='1"));
    v.add(V.ok("percent", "%"));
    return v;
  }

  /**
   * Forged paging cursors: a month or day far away, a forged driver paging state after a real
   * partition, bad lengths, bad base64.
   */
  static List<V> cursors(SplittableRandom rng, Instant now) {
    List<V> v = new ArrayList<>();
    String month = now.toString().substring(0, 7);
    String day = now.toString().substring(0, 10);
    v.add(V.ok("month-9999-12", cursor("9999-12", new byte[0])));
    v.add(V.ok("month-0001-01", cursor("0001-01", new byte[0])));
    v.add(V.ok("day-9999-12-31", cursor("9999-12-31", new byte[0])));
    v.add(V.ok("month-garbage", cursor("zz-zz", new byte[0])));
    v.add(V.ok("forged-paging-state", cursor(month, bytes(rng, 24))));
    v.add(V.ok("forged-paging-state-day", cursor(day, bytes(rng, 24))));
    v.add(V.ok("forged-paging-state-long", cursor(month, bytes(rng, 4096))));
    byte[] zero = {0};
    v.add(V.ok("partition-length-0", b64(zero)));
    byte[] big = {(byte) 127, 'x'};
    v.add(V.ok("partition-length-127", b64(big)));
    v.add(V.ok("random-base64", b64(bytes(rng, 32))));
    v.add(V.ok("not-base64", "!!not*base64!!"));
    v.add(V.ok("long-10k", "A".repeat(10_000)));
    v.add(V.ok("bid-id-long-max", "bid_1_9223372036854775807"));
    v.add(V.ok("bid-id-negative", "bid_-1_-1"));
    v.add(V.ok("bid-id-digits-1200", "bid_1_" + DIGITS_1200));
    return v;
  }

  static String cursor(String partition, byte[] pagingState) {
    return Cursors.unsigned(partition, pagingState);
  }

  private static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static byte[] bytes(SplittableRandom rng, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) rng.nextInt(256);
    }
    return b;
  }

  /** Content types no JSON or NDJSON route takes. */
  static List<V> wrongContentTypes() {
    return List.of(
        V.bad("text/plain", "text/plain"),
        V.bad("application/xml", "application/xml"),
        V.bad("form", "application/x-www-form-urlencoded"),
        V.bad("multipart", "multipart/form-data; boundary=fuzz"),
        V.bad("image/png", "image/png"),
        V.bad("garbage", "???"));
  }

  /** A JSON string token for {@code s}. */
  static String q(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
