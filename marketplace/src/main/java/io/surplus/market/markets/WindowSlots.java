package io.surplus.market.markets;

import io.surplus.engine.SlotClock;
import io.surplus.market.http.Problem;
import java.time.Instant;

/**
 * A window's span on the slot grid, from the instants a provider gives: the start rounds up (and
 * never before the next slot), the end rounds down; the span must hold at least one whole slot, end
 * after now and stay inside the horizon. The one rule for windows from the API and the feed.
 */
public record WindowSlots(int start, int end) {

  /** The span, or a {@link Problem.Failure} naming {@code end}. */
  public static WindowSlots of(SlotClock clock, Instant start, Instant end, long nowMillis) {
    int first = clock.slotAtOrAfter(nowMillis);
    int s = Math.max(clock.slotAtOrAfter(start), first);
    int e = clock.slotAtOrBefore(end);
    if (e <= first) {
      throw Problem.invalid("end", "end is in the past (or within the current slot)").failure();
    }
    if (e > first + clock.horizonSlots()) {
      throw Problem.invalid("end", "end is beyond the horizon").failure();
    }
    if (e <= s) {
      throw Problem.invalid("end", "end must be at least one whole slot after start").failure();
    }
    return new WindowSlots(s, e);
  }

  /** The engine's pool number of a pool name. */
  public static int poolId(String pool) {
    return pool.hashCode() & 0x7fff_ffff;
  }
}
