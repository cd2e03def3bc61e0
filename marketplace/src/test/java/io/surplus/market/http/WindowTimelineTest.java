package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.engine.SlotClock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/markets/{gpuModel}/windows}, the board's capacity timeline, against a market built
 * by hand: three windows in two pools, one lease and one revocation, every number worked out below.
 */
class WindowTimelineTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final String H100 = "H100-SXM-80GB";

  static String opened(
      long seq,
      String id,
      String pool,
      String region,
      int nodes,
      Instant from,
      Instant to,
      String reserve) {
    return FeedTestLines.opened(seq, id, H100, pool, region, nodes, from, to, reserve, 600);
  }

  static void run(
      JsonNode r, Instant from, Instant to, int offered, int allocated, int free, int revoked) {
    assertEquals(from.toString(), r.get("start").asText(), r.toString());
    assertEquals(to.toString(), r.get("end").asText(), r.toString());
    assertEquals(offered, r.get("offered").asInt(), r.toString());
    assertEquals(allocated, r.get("allocated").asInt(), r.toString());
    assertEquals(free, r.get("free").asInt(), r.toString());
    assertEquals(revoked, r.get("revoked").asInt(), r.toString());
  }

  @Test
  void shouldShowEachWindowsCapacityAheadLeasedFreeAndRevokedWithoutNamingPoolOrProvider() {
    TestService service = TestService.start("wtl" + System.nanoTime() % 1_000_000);
    try {
      String provider = service.account(91, Role.PROVIDER, 0);
      String bidder = service.account(92, Role.BIDDER, 100_000_000_000L);
      int s = CLOCK.slotAtOrAfter(System.currentTimeMillis()) + 1;
      Instant[] at = new Instant[10];
      for (int k = 0; k < at.length; k++) {
        at[k] = CLOCK.start(s + k);
      }
      // t-1: 8 nodes over slots 1..9; t-2: 4 nodes over 2..6 in another pool; t-3: 2 nodes over
      // 3..5 in t-1's pool
      TestService.Reply fed =
          FeedTestLines.feed(
              service,
              provider,
              opened(1, "t-1", "ash-pool-a", "us-east", 8, at[1], at[9], "1.00"),
              opened(2, "t-2", "fra-pool-b", "eu-central", 4, at[2], at[6], "1.50"),
              opened(3, "t-3", "ash-pool-a", "us-east", 2, at[3], at[5], "2.50"));
      assertEquals(200, fed.status(), fed.body());
      // 2 nodes for an hour (4 slots) from slot 1 on: only t-1 holds it that early, at 1..5
      String body = Bodies.bidAt(H100, 2, 60, at[1], at[9], "2.00");
      String id = service.post("/v1/bids", bidder, "tl-1", body).json().get("id").asText();
      BidFlowTest.await(
          () -> service.get("/v1/bids/" + id, bidder),
          r -> r.json().get("status").asText().equals("filled"));
      // an emergency takes 3 of t-1's nodes from slot 6 on: no lease is there, nothing is cut
      assertEquals(
          200,
          FeedTestLines.feed(
                  service, provider, FeedTestLines.revoked(4, "t-1", "emergency", at[6], 3))
              .status());

      TestService.Reply reply = service.view("/v1/markets/" + H100 + "/windows");
      assertEquals(200, reply.status(), reply.body());
      JsonNode t = reply.json();
      assertEquals(H100, t.get("gpuModel").asText());
      assertEquals(900, t.get("slotSeconds").asInt());
      assertTrue(t.get("epoch").asLong() >= 1, t.toString());
      List<JsonNode> w = new java.util.ArrayList<>();
      t.get("windows").forEach(w::add);
      assertEquals(3, w.size(), t.toString());

      JsonNode t1 = w.get(0);
      assertEquals("us-east", t1.get("region").asText());
      assertEquals(8, t1.get("nodes").asInt());
      assertEquals("1.00", t1.get("reservePrice").asText());
      assertEquals(at[1].toString(), t1.get("start").asText());
      assertEquals(at[9].toString(), t1.get("end").asText());
      JsonNode runs = t1.get("runs");
      assertEquals(3, runs.size(), runs.toString());
      run(runs.get(0), at[1], at[5], 8, 2, 6, 0);
      run(runs.get(1), at[5], at[6], 8, 0, 8, 0);
      run(runs.get(2), at[6], at[9], 5, 0, 5, 3);

      JsonNode t2 = w.get(1);
      assertEquals("eu-central", t2.get("region").asText());
      assertEquals(1, t2.get("runs").size());
      run(t2.get("runs").get(0), at[2], at[6], 4, 0, 4, 0);
      JsonNode t3 = w.get(2);
      run(t3.get("runs").get(0), at[3], at[5], 2, 0, 2, 0);

      // pools are pseudonyms: one per pool, never the pool's name or the provider
      String pool = t1.get("pool").asText();
      assertTrue(pool.matches("pool-[0-9a-f]{6}"), pool);
      assertEquals(pool, t3.get("pool").asText());
      assertNotEquals(pool, t2.get("pool").asText());
      assertFalse(reply.body().contains("ash-pool-a") || reply.body().contains("fra-pool-b"));
      assertFalse(reply.body().contains("\"provider\"") || reply.body().contains("t-1"));

      // node-slots of 15 minutes: offered 40 + 15 + 16 + 4 = 75 (18.75 h), leased 8 (2 h)
      JsonNode totals = t.get("totals");
      assertEquals(3, totals.get("windows").asInt());
      assertEquals("18.75", totals.get("offeredNodeHours").asText());
      assertEquals("2", totals.get("allocatedNodeHours").asText());
      assertEquals("16.75", totals.get("freeNodeHours").asText());
      assertEquals(0, totals.get("offeredNodesNow").asInt()); // nothing has started yet

      assertEquals(404, service.get("/v1/markets/B200/windows", null).status());
    } finally {
      service.close();
    }
  }
}
