package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * After bids, windows, an epoch and its leases, the whole actor system is restarted: every bid,
 * lease and balance reads back exactly as before, and the trades, candles and epoch record too.
 */
class RestartTest {

  static final String H100 = "H100-SXM-80GB";

  @Test
  void shouldFindEveryBidLeaseAndBalanceExactlyAsBeforeARestart() {
    TestService service = TestService.start("rst" + System.nanoTime() % 1_000_000);
    try {
      String bidder = service.account(31, Role.BIDDER, 50_000_000_000L);
      String provider = service.account(32, Role.PROVIDER, 0);
      String[] bids = {
        Bodies.bid(H100, 4, 120, 0, 12, "3.10"),
        Bodies.bid(H100, 4, 60, 0, 12, "2.70"),
        Bodies.bid(H100, 8, 240, 0, 16, "1.90"), // no room left: stays open
        Bodies.bid(H100, 2, 60, 20, 40, "0.75"), // nothing offered then: stays open
      };
      for (int i = 0; i < bids.length; i++) {
        TestService.Reply r = service.post("/v1/bids", bidder, "b" + i, bids[i]);
        assertEquals(201, r.status(), r.body());
      }
      // the window comes after every bid, so one epoch tries them all together: with the window
      // first, an epoch tick between two bids cleared the first alone at its own limit
      assertEquals(
          201,
          service
              .post("/v1/windows", provider, "w1", Bodies.window(H100, 8, 0, 16, "1.25"))
              .status());
      JsonNode leases =
          BidFlowTest.await(
                  () -> service.get("/v1/leases", bidder),
                  r -> r.status() == 200 && r.json().get("leases").size() == 2)
              .json();
      // the uniform price: the lowest filled limit
      assertEquals("2.70", leases.get("leases").get(0).get("price").asText());
      JsonNode balanceBefore =
          BidFlowTest.await(
                  () -> service.get("/v1/account", bidder),
                  r -> r.json().get("leased").asText().equals("259.20"))
              .json();
      String market = "/v1/markets/" + H100;
      String tradesBefore =
          BidFlowTest.await(
                  () -> service.get(market + "/trades", null),
                  r -> r.status() == 200 && r.json().get("trades").size() == 2)
              .body();
      String candlesBefore =
          BidFlowTest.await(
                  () -> service.get(market + "/candles?interval=1h", null),
                  r -> r.status() == 200 && r.json().get("candles").size() == 1)
              .body();
      long epoch = leases.get("leases").get(0).get("epoch").asLong();
      String epochBefore = service.get(market + "/epochs/" + epoch, null).body();
      assertTrue(epochBefore.contains("\"leases\":2"), epochBefore);
      String bidsBefore = service.get("/v1/bids", bidder).body();

      service.restart();

      assertEquals(bidsBefore, service.get("/v1/bids", bidder).body());
      assertEquals(leases, service.get("/v1/leases", bidder).json());
      assertEquals(balanceBefore, service.get("/v1/account", bidder).json());
      assertEquals(tradesBefore, service.get(market + "/trades", null).body());
      assertEquals(candlesBefore, service.get(market + "/candles?interval=1h", null).body());
      assertEquals(epochBefore, service.get(market + "/epochs/" + epoch, null).body());
      String leaseId = leases.get("leases").get(0).get("id").asText();
      assertEquals(200, service.get("/v1/leases/" + leaseId, bidder).status());
    } finally {
      service.close();
    }
  }
}
