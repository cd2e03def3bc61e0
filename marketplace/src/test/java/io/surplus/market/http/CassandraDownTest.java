package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

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
      String bidder = service.account(51, Role.BIDDER, 10_000_000_000L);
      TestService.Reply before =
          service.post("/v1/bids", bidder, "before", Bodies.bid(H100, 1, 60, 4, 20, "1.00"));
      assertEquals(201, before.status(), before.body());
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

      // a client retries with its key through 503s; should the outage outlast the grace period,
      // the reconciler settles that key's bid and it is answered 422 not-placed: then a new key
      int[] attempt = {0};
      TestService.Reply after =
          BidFlowTest.await(
              () -> {
                TestService.Reply r =
                    service.post(
                        "/v1/bids",
                        bidder,
                        "after-" + attempt[0],
                        Bodies.bid(H100, 1, 60, 4, 20, "1.00"));
                if (r.status() == 422 && r.body().contains("not-placed")) {
                  attempt[0]++;
                }
                return r;
              },
              r -> r.status() == 201);
      assertEquals(201, after.status());
      BidFlowTest.await(() -> service.get("/health/ready", null), r -> r.status() == 200);
      // acknowledged: "before" and "after". A write refused with 503 may still have landed
      // (an ambiguous write at the moment of the crash): such a bid stays pending, never live,
      // until the reconciler settles it as rejected; none is ever open or in the book.
      TestService.Reply bids =
          BidFlowTest.await(
              () -> service.get("/v1/bids", bidder),
              r -> r.status() == 200 && !r.body().contains("\"pending\""));
      java.util.List<String> open = new java.util.ArrayList<>();
      for (var b : bids.json().get("bids")) {
        if (!b.get("status").asText().equals("rejected")) {
          open.add(b.get("id").asText() + " " + b.get("status").asText());
        }
      }
      assertEquals(
          java.util.List.of(
              after.json().get("id").asText() + " open",
              before.json().get("id").asText() + " open"),
          open,
          bids.body());
      long booked = 0;
      for (var level : service.view("/v1/markets/" + H100 + "/book").json().get("bids")) {
        booked += level.get("nodes").asLong();
      }
      assertEquals(2, booked);

      // the markets still clear: their epoch timers came back with them
      String provider = service.account(52, Role.PROVIDER, 0);
      assertEquals(
          201,
          service
              .post("/v1/windows", provider, "w", Bodies.window(H100, 2, 4, 20, "0.50"))
              .status());
      for (TestService.Reply placed : java.util.List.of(before, after)) {
        String id = placed.json().get("id").asText();
        BidFlowTest.await(
            () -> service.get("/v1/bids/" + id, bidder),
            r -> r.json().get("status").asText().equals("filled"));
      }
    } finally {
      service.close();
    }
  }
}
