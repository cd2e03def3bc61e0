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

  /** A window of {@code pool} whose provider gives it {@code confidence} of lasting. */
  public static String window(
      String model,
      String pool,
      String confidence,
      int nodes,
      int fromSlot,
      int toSlot,
      String reserve) {
    return window(model, nodes, fromSlot, toSlot, reserve)
        .replace("ash-h100-a", pool)
        .replaceFirst("\\}$", ",\"confidence\":\"" + confidence + "\"}");
  }

  /**
   * The name the market's window timeline gives the pool of the window over {@code [fromSlot,
   * toSlot)} with {@code nodes} nodes: how a bidder learns what to put in {@code avoidPools}.
   */
  public static String poolOf(
      TestService service, String model, int nodes, int fromSlot, int toSlot) {
    TestService.Reply timeline =
        TestService.await(
            () -> service.view("/v1/markets/" + model + "/windows"),
            r -> r.body().contains("\"start\":\"" + slot(fromSlot) + "\""));
    for (com.fasterxml.jackson.databind.JsonNode w : timeline.json().get("windows")) {
      if (w.get("start").asText().equals(slot(fromSlot).toString())
          && w.get("end").asText().equals(slot(toSlot).toString())
          && w.get("nodes").asInt() == nodes) {
        return w.get("pool").asText();
      }
    }
    throw new AssertionError("no such window in " + timeline.body());
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
