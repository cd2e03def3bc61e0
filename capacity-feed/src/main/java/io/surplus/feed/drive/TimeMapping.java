package io.surplus.feed.drive;

import java.time.Instant;
import java.util.Objects;

/**
 * Maps simulated time onto real time under acceleration: the simulated instant {@code t} happens at
 * {@code realStart + (t - simStart) / speed}, to the millisecond (rounded down). Simulated
 * durations shrink by the same factor: {@link #noticeSeconds(int)} and {@link
 * #durationMinutes(int)}. Pure and thread-safe.
 *
 * @param simStart the first simulated instant
 * @param realStart the real instant {@code simStart} maps to
 * @param speed simulated seconds per real second, {@code > 0}
 */
public record TimeMapping(Instant simStart, Instant realStart, double speed) {

  /** The highest speed accepted: one simulated day per real second. */
  public static final double MAX_SPEED = 86_400;

  public TimeMapping {
    Objects.requireNonNull(simStart, "simStart");
    Objects.requireNonNull(realStart, "realStart");
    if (!(speed > 0) || speed > MAX_SPEED) {
      throw new IllegalArgumentException("speed must be in (0, " + MAX_SPEED + "]: speed=" + speed);
    }
  }

  /**
   * The mapping that starts the simulation at {@code now}, moved forward to the next boundary of
   * the market's {@code slotSeconds} grid (at most one slot away). On the boundary, and with {@code
   * slotSeconds = 900 / speed}, the simulator's 15-minute grid lands on the market's slot grid, so
   * the market's inward rounding of windows and bids costs them nothing.
   */
  public static TimeMapping startingAt(
      Instant simStart, Instant now, double speed, int slotSeconds) {
    if (slotSeconds <= 0) {
      throw new IllegalArgumentException("slotSeconds must be > 0: slotSeconds=" + slotSeconds);
    }
    return new TimeMapping(simStart, ceilToSlot(now, slotSeconds), speed);
  }

  /** The first boundary of the {@code slotSeconds} UTC grid at or after {@code t}. */
  public static Instant ceilToSlot(Instant t, int slotSeconds) {
    long len = slotSeconds * 1000L;
    return Instant.ofEpochMilli(Math.floorDiv(t.toEpochMilli() + len - 1, len) * len);
  }

  /** The real instant of simulated {@code sim}. */
  public Instant toReal(Instant sim) {
    return Instant.ofEpochMilli(toRealMillis(sim));
  }

  /** The real instant of simulated {@code sim}, in epoch milliseconds. */
  public long toRealMillis(Instant sim) {
    double delta = sim.toEpochMilli() - simStart.toEpochMilli();
    return realStart.toEpochMilli() + (long) Math.floor(delta / speed);
  }

  /** The simulated instant happening at real {@code real}. */
  public Instant toSim(Instant real) {
    double delta = real.toEpochMilli() - realStart.toEpochMilli();
    return Instant.ofEpochMilli(simStart.toEpochMilli() + (long) Math.floor(delta * speed));
  }

  /**
   * A notice of {@code simSeconds} in real seconds: divided by the speed and rounded down, so the
   * promise is never more than the schedule keeps; at least 1 unless it was 0.
   */
  public int noticeSeconds(int simSeconds) {
    if (simSeconds < 0) {
      throw new IllegalArgumentException("simSeconds must be >= 0: simSeconds=" + simSeconds);
    }
    return simSeconds == 0 ? 0 : (int) Math.max(1, Math.floor(simSeconds / speed));
  }

  /** A bid's duration of {@code simMinutes} in real minutes: rounded, at least 1. */
  public int durationMinutes(int simMinutes) {
    if (simMinutes <= 0) {
      throw new IllegalArgumentException("simMinutes must be > 0: simMinutes=" + simMinutes);
    }
    return (int) Math.max(1, Math.round(simMinutes / speed));
  }
}
