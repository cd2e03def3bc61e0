package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.surplus.market.accounts.Account;
import io.surplus.market.cassandra.TestCassandra;
import org.junit.jupiter.api.Test;

/**
 * With the Cassandra node down, writes get 503 with Retry-After and nothing is acknowledged;
 * readiness says so; once the node is back the same service takes writes again, unrestarted.
 */
class CassandraDownTest {

  static final String H100 = "H100-SXM-80GB";

  @Test
  void shouldAnswer503WhileCassandraIsDownAndRecoverWithoutARestart() {
    TestService service = TestService.start("down" + System.nanoTime() % 1_000_000);
    try {
      String bidder = service.account(51, Account.Role.BIDDER, 10_000_000_000L);
      assertEquals(
          201,
          service
              .post("/v1/bids", bidder, "before", Bodies.bid(H100, 1, 60, 4, 20, "1.00"))
              .status());
      assertEquals(200, service.get("/health/ready", null).status());

      TestCassandra.killAndLeaveDown();
      try {
        for (int i = 0; i < 3; i++) {
          TestService.Reply r =
              service.post("/v1/bids", bidder, "down-" + i, Bodies.bid(H100, 1, 60, 4, 20, "1.00"));
          assertEquals(503, r.status(), r.body());
          assertNotNull(r.header("Retry-After"));
          assertEquals("application/problem+json", r.header("Content-Type"));
        }
        assertEquals(503, service.get("/health/ready", null).status());
      } finally {
        TestCassandra.startAgain();
      }

      TestService.Reply after =
          BidFlowTest.await(
              () ->
                  service.post("/v1/bids", bidder, "after", Bodies.bid(H100, 1, 60, 4, 20, "1.00")),
              r -> r.status() == 201);
      assertEquals(201, after.status());
      BidFlowTest.await(() -> service.get("/health/ready", null), r -> r.status() == 200);
      // acknowledged: "before" and "after"; none of the refused ones
      assertEquals(
          2,
          BidFlowTest.await(() -> service.get("/v1/bids", bidder), r -> r.status() == 200)
              .json()
              .get("bids")
              .size());
    } finally {
      service.close();
    }
  }
}
