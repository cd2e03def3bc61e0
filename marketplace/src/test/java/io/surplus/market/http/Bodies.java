package io.surplus.market.http;

import io.surplus.engine.SlotClock;
import java.time.Instant;

/** Request bodies for tests, on the slot grid from now. */
public final class Bodies {

  private Bodies() {}

  static final SlotClock CLOCK = SlotClock.DEFAULT;

  /** The start of the slot {@code k} slots after the next slot boundary. */
  public static Instant slot(int k) {
    return CLOCK.start(CLOCK.slotAtOrAfter(System.currentTimeMillis()) + 1 + k);
  }

  public static String bid(
      String model, int nodes, int minutes, int fromSlot, int toSlot, String limit) {
    return bidAt(model, nodes, minutes, slot(fromSlot), slot(toSlot), limit);
  }

  /** A bid between two instants. */
  public static String bidAt(
      String model,
      int nodes,
      int minutes,
      Instant earliestStart,
      Instant latestEnd,
      String limit) {
    return "{\"gpuModel\":\""
        + model
        + "\",\"nodes\":"
        + nodes
        + ",\"durationMinutes\":"
        + minutes
        + ",\"earliestStart\":\""
        + earliestStart
        + "\",\"latestEnd\":\""
        + latestEnd
        + "\",\"limitPrice\":\""
        + limit
        + "\"}";
  }

  public static String window(String model, int nodes, int fromSlot, int toSlot, String reserve) {
    return "{\"gpuModel\":\""
        + model
        + "\",\"pool\":\"ash-h100-a\",\"region\":\"us-east\",\"nodes\":"
        + nodes
        + ",\"start\":\""
        + slot(fromSlot)
        + "\",\"end\":\""
        + slot(toSlot)
        + "\",\"reservePrice\":\""
        + reserve
        + "\",\"noticeSeconds\":600}";
  }
}
