package io.surplus.market.markets;

import io.surplus.engine.SlotClock;
import io.surplus.market.http.Problem;
import java.time.Duration;
import java.time.Instant;

/**
 * A span on the slot grid, from the instants a client gives: the start rounds up (and never before
 * the next slot), the end rounds down; the end must fall after now and inside the horizon. The one
 * rule for windows and bids from the API and for windows from the feed. Every instant is compared
 * with the horizon in milliseconds before it becomes a slot, so no instant a client sends can
 * overflow the grid: an end past the horizon is refused, a start before now is now.
 */
public record WindowSlots(int start, int end) {

  /** A window's span, or a {@link Problem.Failure} naming {@code end}. */
  public static WindowSlots of(SlotClock clock, Instant start, Instant end, long nowMillis) {
    WindowSlots span = span(clock, start, end, nowMillis, "end");
    if (span.end() <= span.start()) {
      throw Problem.invalid("end", "end must be at least one whole slot after start").failure();
    }
    return span;
  }

  /**
   * The span of {@code [start, end)} rounded inward, or a {@link Problem.Failure} naming {@code
   * endField} when the end is in the past (or within the current slot) or beyond the horizon. The
   * span may be empty ({@code end <= start}): the caller says what that means for it.
   */
  public static WindowSlots span(
      SlotClock clock, Instant start, Instant end, long nowMillis, String endField) {
    int first = clock.slotAtOrAfter(nowMillis);
    long endMillis = end.toEpochMilli();
    if (endMillis < clock.startMillis(first + 1)) {
      throw Problem.invalid(endField, endField + " is in the past (or within the current slot)")
          .failure();
    }
    checkHorizon(clock, endMillis, nowMillis, endField);
    int e = clock.slotAtOrBefore(endMillis);
    long startMillis = Math.min(Math.max(start.toEpochMilli(), nowMillis), endMillis);
    int s = Math.max(clock.slotAtOrAfter(startMillis), first);
    return new WindowSlots(s, e);
  }

  /**
   * Refuses, naming {@code field}, an instant the market's horizon does not reach: one whose slot
   * (rounded down) lies past the last slot of the horizon.
   */
  public static void checkHorizon(SlotClock clock, long millis, long nowMillis, String field) {
    int first = clock.slotAtOrAfter(nowMillis);
    if (millis >= clock.startMillis(first + clock.horizonSlots() + 1)) {
      throw Problem.invalid(
              field,
              field
                  + " is beyond the horizon of "
                  + hours(clock)
                  + " (until "
                  + clock.start(first + clock.horizonSlots())
                  + ")")
          .failure();
    }
  }

  private static String hours(SlotClock clock) {
    Duration h = Duration.ofSeconds(clock.seconds(clock.horizonSlots()));
    return h.toMinutes() % 60 == 0 ? h.toHours() + " hours" : h.toMinutes() + " minutes";
  }

  /** The engine's pool number of a pool name. */
  public static int poolId(String pool) {
    return pool.hashCode() & 0x7fff_ffff;
  }
}
