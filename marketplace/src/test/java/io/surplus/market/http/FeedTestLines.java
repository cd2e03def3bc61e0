package io.surplus.market.http;

import java.time.Instant;

/** Feed lines for tests, on the slot grid from now or at given instants. */
public final class FeedTestLines {

  private FeedTestLines() {}

  static String opened(
      long seq,
      String id,
      String model,
      int nodes,
      int fromSlot,
      int toSlot,
      String reserve,
      int notice) {
    return opened(
        seq,
        id,
        model,
        "ash-pool-a",
        "us-east",
        nodes,
        Bodies.slot(fromSlot),
        Bodies.slot(toSlot),
        reserve,
        notice);
  }

  /** A {@code window.opened} line of 8-GPU nodes in any pool and region over {@code [from, to)}. */
  public static String opened(
      long seq,
      String id,
      String model,
      String pool,
      String region,
      int nodes,
      Instant from,
      Instant to,
      String reserve,
      int notice) {
    return "{\"type\":\"window.opened\",\"seq\":"
        + seq
        + ",\"windowId\":\""
        + id
        + "\",\"gpuModel\":\""
        + model
        + "\",\"pool\":\""
        + pool
        + "\",\"region\":\""
        + region
        + "\",\"nodes\":"
        + nodes
        + ",\"gpusPerNode\":8,\"start\":\""
        + from
        + "\",\"end\":\""
        + to
        + "\",\"reservePrice\":\""
        + reserve
        + "\",\"noticeSeconds\":"
        + notice
        + "}";
  }

  public static String revoked(long seq, String id, String kind, Instant at, int nodes) {
    return "{\"type\":\"window.revoked\",\"seq\":"
        + seq
        + ",\"windowId\":\""
        + id
        + "\",\"kind\":\""
        + kind
        + "\",\"at\":\""
        + at
        + "\",\"nodes\":"
        + nodes
        + "}";
  }

  /** A {@code window.extended} line moving the window's end to {@code end}. */
  public static String extended(long seq, String window, String end) {
    return "{\"type\":\"window.extended\",\"seq\":"
        + seq
        + ",\"windowId\":\""
        + window
        + "\",\"end\":\""
        + end
        + "\"}";
  }

  public static TestService.Reply feed(TestService service, String key, String... lines) {
    return service.post("/v1/feed", key, null, String.join("\n", lines) + "\n");
  }
}
