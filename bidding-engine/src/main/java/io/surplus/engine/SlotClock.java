package io.surplus.engine;

import java.time.Duration;
import java.time.Instant;

/**
 * Maps instants to slot indices on a fixed UTC grid. Slot {@code k} covers {@code [k * length, (k +
 * 1) * length)} seconds since the Unix epoch. The engine speaks slot indices only; the API rounds
 * inward: a start rounds up to the next slot boundary, an end rounds down.
 */
public record SlotClock(int slotSeconds, int horizonSlots) {

  /** Default slot length: 15 minutes. */
  public static final int DEFAULT_SLOT_SECONDS = 900;

  /** Default horizon: 7 days of 15-minute slots. */
  public static final int DEFAULT_HORIZON_SLOTS = 672;

  public static final SlotClock DEFAULT =
      new SlotClock(DEFAULT_SLOT_SECONDS, DEFAULT_HORIZON_SLOTS);

  public SlotClock {
    if (slotSeconds <= 0 || 86_400 % slotSeconds != 0) {
      throw new IllegalArgumentException(
          "slotSeconds must be > 0 and divide a day: slotSeconds=" + slotSeconds);
    }
    if (horizonSlots <= 0) {
      throw new IllegalArgumentException("horizonSlots must be > 0: horizonSlots=" + horizonSlots);
    }
  }

  /**
   * Whether {@code epochMillis} lies on this clock's grid: its slot index fits an {@code int}. With
   * 15-minute slots that is about 61,000 years either side of 1970; with 15-second slots about
   * 1,000. Callers at the edge check instants against the horizon first, so this never refuses a
   * good one.
   */
  public boolean covers(long epochMillis) {
    long slot = Math.floorDiv(epochMillis, slotSeconds * 1000L);
    return slot > Integer.MIN_VALUE && slot < Integer.MAX_VALUE;
  }

  /**
   * The first slot starting at or after {@code epochMillis}.
   *
   * @throws IllegalArgumentException if the instant lies off the grid (see {@link #covers})
   */
  public int slotAtOrAfter(long epochMillis) {
    requireCovered(epochMillis);
    long len = slotSeconds * 1000L;
    return (int) Math.floorDiv(epochMillis - 1, len) + 1;
  }

  /**
   * The slot containing {@code epochMillis} (the last boundary at or before it).
   *
   * @throws IllegalArgumentException if the instant lies off the grid (see {@link #covers})
   */
  public int slotAtOrBefore(long epochMillis) {
    requireCovered(epochMillis);
    return (int) Math.floorDiv(epochMillis, slotSeconds * 1000L);
  }

  private void requireCovered(long epochMillis) {
    if (!covers(epochMillis)) {
      throw new IllegalArgumentException(
          "epochMillis lies off the grid of "
              + slotSeconds
              + "-second slots: epochMillis="
              + epochMillis);
    }
  }

  public int slotAtOrAfter(Instant instant) {
    return slotAtOrAfter(millis(instant));
  }

  public int slotAtOrBefore(Instant instant) {
    return slotAtOrBefore(millis(instant));
  }

  private static long millis(Instant instant) {
    try {
      return instant.toEpochMilli();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("instant lies off any grid: instant=" + instant, e);
    }
  }

  /** Epoch milliseconds at which {@code slot} starts. */
  public long startMillis(int slot) {
    return slot * (slotSeconds * 1000L);
  }

  public Instant start(int slot) {
    return Instant.ofEpochMilli(startMillis(slot));
  }

  /** The number of whole slots needed to hold {@code minutes}, rounding up. */
  public int slotsFor(Duration duration) {
    long seconds = duration.toSeconds();
    if (seconds < 0 || seconds > (long) Integer.MAX_VALUE * slotSeconds - slotSeconds) {
      throw new IllegalArgumentException(
          "duration must be >= 0 and fit the grid: duration=" + duration);
    }
    return (int) ((seconds + slotSeconds - 1) / slotSeconds);
  }

  /**
   * Hours as a fraction, exact: GPU-hours of a slot span are {@code slots * slotSeconds / 3600}.
   */
  public long seconds(int slots) {
    return (long) slots * slotSeconds;
  }
}
