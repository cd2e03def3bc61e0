package io.surplus.market.readside;

import java.time.Instant;

/** The candle intervals the read side keeps; each divides a UTC day. */
public enum CandleInterval {
  ONE_MINUTE("1m", 60),
  FIFTEEN_MINUTES("15m", 900),
  ONE_HOUR("1h", 3600);

  private final String label;
  private final long seconds;

  CandleInterval(String label, long seconds) {
    this.label = label;
    this.seconds = seconds;
  }

  /** The API and table form: {@code 1m}, {@code 15m}, {@code 1h}. */
  public String label() {
    return label;
  }

  public long seconds() {
    return seconds;
  }

  /** The start of the bucket holding {@code instant}. */
  public Instant bucketOf(Instant instant) {
    long len = seconds * 1000L;
    return Instant.ofEpochMilli(Math.floorDiv(instant.toEpochMilli(), len) * len);
  }

  /**
   * @throws IllegalArgumentException naming the value when it is not {@code 1m}, {@code 15m} or
   *     {@code 1h}
   */
  public static CandleInterval parse(String label) {
    for (CandleInterval i : values()) {
      if (i.label.equals(label)) {
        return i;
      }
    }
    throw new IllegalArgumentException("interval must be one of 1m, 15m, 1h: interval=" + label);
  }
}
