package io.surplus.market.http;

import java.time.Instant;

/** Feed lines for tests, on the slot grid from now. */
final class FeedTestLines {

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
    return "{\"type\":\"window.opened\",\"seq\":"
        + seq
        + ",\"windowId\":\""
        + id
        + "\",\"gpuModel\":\""
        + model
        + "\",\"pool\":\"ash-pool-a\",\"region\":\"us-east\",\"nodes\":"
        + nodes
        + ",\"gpusPerNode\":8,\"start\":\""
        + Bodies.slot(fromSlot)
        + "\",\"end\":\""
        + Bodies.slot(toSlot)
        + "\",\"reservePrice\":\""
        + reserve
        + "\",\"noticeSeconds\":"
        + notice
        + "}";
  }

  static String revoked(long seq, String id, String kind, Instant at, int nodes) {
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

  static TestService.Reply feed(TestService service, String key, String... lines) {
    return service.post("/v1/feed", key, null, String.join("\n", lines) + "\n");
  }
}
