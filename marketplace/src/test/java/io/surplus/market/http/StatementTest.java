package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.engine.Price;
import io.surplus.engine.SlotClock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/provider/statement} against the real service: a provider's two pools, one lease
 * and one revocation that cuts it, every figure worked out below; another provider sees none of it,
 * a bidder is refused, and every bad query is a {@code 400} naming its parameter.
 */
class StatementTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final String H100 = "H100-SXM-80GB";

  @Test
  void shouldStateEachPoolsNodeHoursAndRevenueToItsProviderAlone() {
    TestService service = TestService.start("stm" + System.nanoTime() % 1_000_000);
    try {
      String provider = service.account(81, Role.PROVIDER, 0);
      String other = service.account(82, Role.PROVIDER, 0);
      String bidder = service.account(83, Role.BIDDER, 100_000_000_000L);
      int s = CLOCK.slotAtOrAfter(System.currentTimeMillis()) + 1;
      Instant[] at = new Instant[12];
      for (int k = 0; k < at.length; k++) {
        at[k] = CLOCK.start(s + k);
      }
      // s-1: 4 nodes of ash-pool-a over slots 2..10 (8 slots of 15 min: 8 node-hours), by the feed
      assertEquals(
          200,
          FeedTestLines.feed(
                  service,
                  provider,
                  FeedTestLines.opened(
                      1, "s-1", H100, "ash-pool-a", "us-east", 4, at[2], at[10], "1.00", 600))
              .status());
      // 2 nodes of ash-h100-a over 4 slots (2 node-hours), through the API
      TestService.Reply posted =
          service.post("/v1/windows", provider, "stm-w", Bodies.window(H100, 2, 1, 5, "1.00"));
      assertEquals(201, posted.status(), posted.body());
      // 2 nodes for 2 hours: only s-1 is that long, so it fills there over slots 2..10
      String body = Bodies.bidAt(H100, 2, 120, at[2], at[10], "2.00");
      String id = service.post("/v1/bids", bidder, "stm-1", body).json().get("id").asText();
      BidFlowTest.await(
          () -> service.get("/v1/bids/" + id, bidder),
          r -> r.json().get("status").asText().equals("filled"));
      // a planned revocation takes 3 of s-1's 4 nodes from slot 6 on (1.5 h ahead, past its 600 s
      // notice): the lease's 2 nodes no longer fit and it is cut there, with its notice kept
      assertEquals(
          200,
          FeedTestLines.feed(
                  service, provider, FeedTestLines.revoked(2, "s-1", "planned", at[6], 3))
              .status());
      JsonNode lease =
          TestService.await(
                  () -> service.get("/v1/leases", bidder), r -> r.json().get("leases").size() == 1)
              .json()
              .get("leases")
              .get(0);
      long price = Price.parse(lease.get("price").asText());

      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      String query =
          "/v1/provider/statement?from=" + today.minusDays(1) + "&to=" + today.plusDays(2);
      JsonNode st =
          TestService.await(
                  () -> service.get(query, provider),
                  r ->
                      r.status() == 200
                          && r.json().get("totals").size() == 2
                          && r.json().get("totals").get(1).get("preemptions").asInt() == 1)
              .json();
      // by pool name, in order: ash-h100-a, then ash-pool-a
      JsonNode api = st.get("totals").get(0);
      assertEquals("ash-h100-a", api.get("pool").asText(), st.toString());
      assertEquals(H100, api.get("market").asText());
      assertEquals("2", api.get("offeredNodeHours").asText());
      assertEquals("0", api.get("soldNodeHours").asText());
      assertEquals("2", api.get("idleNodeHours").asText());
      assertEquals("0.0000", api.get("sellThrough").asText());
      assertEquals("0.00", api.get("revenue").asText());
      // s-1: offered 4 x 2 h = 8; revoked 3 nodes x 1 h (slots 6..10) = 3; sold 2 nodes x 1 h
      // (slots 2..6, then cut) = 2; idle 8 - 3 - 2 = 3; sell-through 2 / (8 - 3) = 0.4
      JsonNode feed = st.get("totals").get(1);
      assertEquals("ash-pool-a", feed.get("pool").asText(), st.toString());
      assertEquals("8", feed.get("offeredNodeHours").asText());
      assertEquals("3", feed.get("revokedNodeHours").asText());
      assertEquals("2", feed.get("soldNodeHours").asText());
      assertEquals("3", feed.get("idleNodeHours").asText());
      assertEquals("0.4000", feed.get("sellThrough").asText());
      // billed: 2 nodes x 8 GPUs x 1 h at the lease's price; the notice was kept, nothing refunded
      assertEquals(Price.format(Price.cost(price, 2, 8, 3600)), feed.get("revenue").asText());
      assertEquals(Price.format(price), feed.get("averagePrice").asText());
      assertEquals("1.00", feed.get("averageReserve").asText());
      assertEquals("0.00", feed.get("refunds").asText());
      assertEquals(1, feed.get("preemptions").asInt());
      // the days add up to the totals
      long dayPreemptions = 0;
      for (JsonNode d : st.get("days")) {
        assertTrue(d.has("day"), d.toString());
        dayPreemptions += d.get("preemptions").asInt();
      }
      assertEquals(1, dayPreemptions);

      // one pool only
      JsonNode one = service.get(query + "&pool=ash-h100-a", provider).json().get("totals");
      assertEquals(1, one.size(), one.toString());
      assertEquals("ash-h100-a", one.get(0).get("pool").asText());

      // another provider reads only its own: nothing; a bidder may not read statements
      TestService.Reply others = service.get(query, other);
      assertEquals(200, others.status(), others.body());
      assertEquals(0, others.json().get("totals").size(), others.body());
      assertEquals(0, others.json().get("days").size(), others.body());
      assertEquals(403, service.get(query, bidder).status());
      assertEquals(401, service.get(query, null).status());

      // bad queries, each naming its parameter
      String base = "/v1/provider/statement";
      badQuery(service, provider, base + "?from=2026-13-01", "from");
      badQuery(service, provider, base + "?to=yesterday", "to");
      badQuery(service, provider, base + "?from=2026-11-10&to=2026-11-10", "from");
      badQuery(service, provider, base + "?from=2026-01-01&to=2026-05-01", "to");
      badQuery(service, provider, base + "?pool=" + "p".repeat(65), "pool");
    } finally {
      service.close();
    }
  }

  static void badQuery(TestService service, String key, String path, String field) {
    TestService.Reply r = service.get(path, key);
    assertEquals(400, r.status(), r.body());
    assertEquals(field, r.json().get("field").asText(), r.body());
  }
}
