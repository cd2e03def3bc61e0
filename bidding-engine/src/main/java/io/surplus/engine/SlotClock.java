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

  /** The first slot starting at or after {@code epochMillis}. */
  public int slotAtOrAfter(long epochMillis) {
    long len = slotSeconds * 1000L;
    return Math.toIntExact(Math.floorDiv(epochMillis + len - 1, len));
  }

  /** The slot containing {@code epochMillis} (the last boundary at or before it). */
  public int slotAtOrBefore(long epochMillis) {
    return Math.toIntExact(Math.floorDiv(epochMillis, slotSeconds * 1000L));
  }

  public int slotAtOrAfter(Instant instant) {
    return slotAtOrAfter(instant.toEpochMilli());
  }

  public int slotAtOrBefore(Instant instant) {
    return slotAtOrBefore(instant.toEpochMilli());
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
    return Math.toIntExact((seconds + slotSeconds - 1) / slotSeconds);
  }

  /**
   * Hours as a fraction, exact: GPU-hours of a slot span are {@code slots * slotSeconds / 3600}.
   */
  public long seconds(int slots) {
    return (long) slots * slotSeconds;
  }
}
