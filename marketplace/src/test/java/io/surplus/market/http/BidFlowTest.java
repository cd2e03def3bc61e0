package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A bidder and a provider over real HTTP, against the real Cassandra node. */
class BidFlowTest {

  static final String H100 = "H100-SXM-80GB";
  static TestService service;
  static String bidder;
  static String provider;

  @BeforeAll
  static void start() {
    service = TestService.start("flow" + System.nanoTime() % 1_000_000);
    bidder = service.account(11, Role.BIDDER, 100_000_000_000L);
    provider = service.account(12, Role.PROVIDER, 0);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  /** Polls (sleeping) until the reply satisfies {@code done}. */
  static TestService.Reply await(
      java.util.function.Supplier<TestService.Reply> call, Predicate<TestService.Reply> done) {
    return TestService.await(call, done);
  }

  @Test
  void shouldPlaceABatchWithinCreditAndAnswerTheSameBidsWhenItIsSentAgain() {
    // $200 of credit: two $72 bids fit, the third does not
    String bidder = service.account(14, Role.BIDDER, 200_000_000L);
    String one = Bodies.bid(H100, 2, 60, 0, 12, "4.50");
    String body = "{\"bids\":[" + one + "," + one + "," + one + "]}";
    TestService.Reply first = service.post("/v1/bids/batch", bidder, "batch-a", body);
    assertEquals(207, first.status(), first.body());
    JsonNode results = first.json().get("results");
    assertEquals(201, results.get(0).get("status").asInt());
    assertEquals(201, results.get(1).get("status").asInt());
    assertEquals(422, results.get(2).get("status").asInt());
    assertEquals(
        "insufficient-credit",
        results.get(2).get("problem").get("type").asText().replaceAll(".*/", ""));
    String a = results.get(0).get("bid").get("id").asText();
    String b = results.get(1).get("bid").get("id").asText();
    assertEquals("open", results.get(0).get("bid").get("status").asText());

    // each placed bid is open in the account and the market, with its credit reserved
    for (String id : new String[] {a, b}) {
      TestService.Reply shown = service.get("/v1/bids/" + id, bidder);
      assertEquals(200, shown.status(), shown.body());
      assertEquals("open", shown.json().get("status").asText());
    }
    assertEquals("144.00", service.get("/v1/account", bidder).json().get("reserved").asText());

    // the same batch again (a client retry) answers the same bids and places nothing new
    TestService.Reply again = service.post("/v1/bids/batch", bidder, "batch-a", body);
    assertEquals(207, again.status(), again.body());
    assertEquals(a, again.json().get("results").get(0).get("bid").get("id").asText());
    assertEquals(b, again.json().get("results").get(1).get("bid").get("id").asText());
    assertEquals("144.00", service.get("/v1/account", bidder).json().get("reserved").asText());
  }

  @Test
  void shouldFillABidAgainstAWindowAndReserveThenReleaseCredit() {
    String bidder = service.account(13, Role.BIDDER, 100_000_000_000L);
    TestService.Reply w =
        service.post("/v1/windows", provider, "w-1", Bodies.window(H100, 16, 0, 16, "1.50"));
    assertEquals(201, w.status(), w.body());
    TestService.Reply b =
        service.post("/v1/bids", bidder, "b-1", Bodies.bid(H100, 4, 120, 0, 12, "2.25"));
    assertEquals(201, b.status(), b.body());
    JsonNode bid = b.json();
    String id = bid.get("id").asText();
    assertEquals("/v1/bids/" + id, b.header("Location"));
    // 4 nodes x 8 GPUs x 2 h x $2.25
    assertEquals("144.00", bid.get("reserved").asText());

    TestService.Reply filled =
        await(
            () -> service.get("/v1/bids/" + id, bidder),
            r -> r.json().get("status").asText().equals("filled"));
    assertEquals(200, filled.status());

    // the reservation became a lease at the uniform price (the only bid: its own limit)
    JsonNode balance =
        await(
                () -> service.get("/v1/account", bidder),
                r -> r.json().get("reserved").asText().equals("0.00"))
            .json();
    assertEquals("144.00", balance.get("leased").asText());
    assertEquals("100000.00", balance.get("creditLimit").asText());
    assertEquals("99856.00", balance.get("available").asText());
  }

  @Test
  void shouldAnswerTheSameBidToARetryWithTheSameKey() {
    String body = Bodies.bid(H100, 2, 60, 20, 40, "0.50");
    TestService.Reply first = service.post("/v1/bids", bidder, "same-key", body);
    TestService.Reply again = service.post("/v1/bids", bidder, "same-key", body);
    assertEquals(201, first.status(), first.body());
    assertEquals(201, again.status(), again.body());
    assertEquals(first.json().get("id"), again.json().get("id"));
    assertEquals("true", again.header("Idempotent-Replayed"));
  }

  @Test
  void shouldCancelAnOpenBidAndFreeItsReservation() {
    TestService.Reply placed =
        service.post("/v1/bids", bidder, "to-cancel", Bodies.bid(H100, 1, 60, 30, 50, "0.40"));
    assertEquals(201, placed.status(), placed.body());
    String id = placed.json().get("id").asText();
    TestService.Reply cancelled = service.delete("/v1/bids/" + id, bidder);
    assertEquals(200, cancelled.status(), cancelled.body());
    assertEquals("cancelled", cancelled.json().get("status").asText());
    TestService.Reply list = service.get("/v1/bids?status=cancelled", bidder);
    assertEquals(200, list.status());
    assertTrue(list.body().contains(id), list.body());
  }

  @Test
  void shouldShowTheBookAndMarkets() {
    service.post("/v1/bids", bidder, "book-1", Bodies.bid(H100, 3, 60, 40, 60, "0.33"));
    TestService.Reply book = service.view("/v1/markets/" + H100 + "/book");
    assertEquals(200, book.status(), book.body());
    boolean found = false;
    for (JsonNode level : book.json().get("bids")) {
      found |= level.get("limitPrice").asText().equals("0.33");
    }
    assertTrue(found, book.body());
    TestService.Reply markets = service.get("/v1/markets", null);
    assertEquals(200, markets.status());
    assertNotNull(markets.json().get("markets"));
    assertEquals(3, markets.json().get("markets").size());
  }

  @Test
  void shouldSayEachMarketsRulesSoAClientCanBuildAValidBid() {
    JsonNode h100 = null;
    for (JsonNode m : service.get("/v1/markets", null).json().get("markets")) {
      JsonNode rules = m.get("rules");
      assertNotNull(rules, m.toString());
      assertEquals(m.get("gpusPerNode").asInt(), rules.get("gpusPerNode").asInt());
      if (m.get("gpuModel").asText().equals(H100)) {
        h100 = m;
      }
    }
    assertNotNull(h100);
    JsonNode rules = h100.get("rules");
    // application.conf: 900 s slots, 672 of them ahead (a week); the test service's 300 ms epochs
    assertEquals(900, rules.get("slotSeconds").asInt());
    assertEquals("PT168H", rules.get("horizon").asText());
    assertEquals("0.000001", rules.get("priceTick").asText());
    assertEquals("1000.00", rules.get("maxLimitPrice").asText());
    assertEquals(15, rules.get("minDurationMinutes").asInt());
    assertEquals(168 * 60, rules.get("maxDurationMinutes").asInt());
    assertEquals("PT0.3S", rules.get("epochInterval").asText());
    assertEquals("PAY_AS_CLEAR", rules.get("pricingRule").asText());
    assertEquals(Fields.MAX_NOTICE_SECONDS, rules.get("maxNoticeSeconds").asInt());
    assertTrue(rules.get("regions").size() > 0, rules.toString());

    // the validation holds to them: past the longest duration, a tick too fine, each named
    TestService.Reply tooLong =
        service.post(
            "/v1/bids",
            bidder,
            "rules-1",
            Bodies.bid(H100, 1, rules.get("maxDurationMinutes").asInt() + 1, 40, 60, "2.00"));
    assertEquals(422, tooLong.status(), tooLong.body());
    assertEquals("durationMinutes", tooLong.json().get("field").asText(), tooLong.body());
    TestService.Reply tooFine =
        service.post("/v1/bids", bidder, "rules-2", Bodies.bid(H100, 1, 60, 40, 60, "2.0000001"));
    assertEquals(422, tooFine.status(), tooFine.body());
    assertEquals("limitPrice", tooFine.json().get("field").asText(), tooFine.body());

    // one market's own document is its line of the list, rules and all
    TestService.Reply one = service.get("/v1/markets/" + H100, null);
    assertEquals(200, one.status(), one.body());
    assertEquals(H100, one.json().get("gpuModel").asText());
    assertEquals(rules, one.json().get("rules"));
    TestService.Reply none = service.get("/v1/markets/B200-NOPE", null);
    assertEquals(404, none.status(), none.body());
  }

  @Test
  void shouldShowEachMarketsEpochsAndGateOnMetrics() {
    service.post("/v1/bids", bidder, "metrics-1", Bodies.bid(H100, 1, 60, 40, 60, "0.22"));
    String h100 = "market=\"" + H100 + "\"";
    TestService.Reply metrics =
        TestService.await(
            () -> service.get("/metrics", null),
            r ->
                count(r.body(), "surplus_market_epoch_clear_seconds_count", h100) > 0
                    && count(r.body(), "surplus_market_gate_batch_bids_count", h100) > 0);
    for (String name :
        List.of(
            "surplus_market_epoch_searched_count",
            "surplus_market_epoch_durable_seconds_count",
            "surplus_market_epoch_leases_count",
            "surplus_market_epoch_repair_fills_count",
            "surplus_market_open_bids",
            "surplus_market_gate_batch_write_seconds_count",
            "surplus_market_gate_bid_wait_seconds_count",
            "surplus_market_gate_queue",
            "surplus_market_restarts_total")) {
      assertTrue(count(metrics.body(), name, h100) >= 0, name + " is missing");
    }
    assertTrue(count(metrics.body(), "surplus_market_open_bids", h100) >= 1, metrics.body());
  }

  /** The value of the Prometheus sample {@code name} with label {@code label}, or -1 if none. */
  static double count(String scrape, String name, String label) {
    return scrape
        .lines()
        .filter(l -> l.startsWith(name + "{") && l.contains(label))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElse(-1);
  }

  @Test
  void shouldAnswerMarketDataFromViewsWithEntityTags() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    for (String path : List.of("/v1/markets", "/v1/markets/" + H100 + "/book")) {
      TestService.Reply first = service.get(path, null);
      String etag = first.header("ETag");
      assertNotNull(etag, path + " has no ETag");
      java.net.http.HttpResponse<String> again =
          http.send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(service.base() + path))
                  .header("If-None-Match", etag)
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      // the same view, or a newer one if an epoch published it meanwhile
      if (again.statusCode() == 304) {
        assertEquals(etag, again.headers().firstValue("ETag").orElse(null));
      } else {
        assertEquals(200, again.statusCode(), again.body());
        assertNotEquals(etag, again.headers().firstValue("ETag").orElse(null));
      }
    }
    // a change to the book gives a new view, with a new tag
    String before = service.get("/v1/markets/" + H100 + "/book", null).header("ETag");
    service.post("/v1/bids", bidder, "etag-1", Bodies.bid(H100, 1, 60, 40, 60, "0.21"));
    TestService.Reply after = service.view("/v1/markets/" + H100 + "/book");
    assertNotEquals(before, after.header("ETag"));
    assertTrue(after.body().contains("\"0.21\""), after.body());
  }

  static final String A100 = "A100-SXM-80GB";

  @Test
  void shouldLeaveABidAskingMoreConfidenceThanAnyWindowHasOpenWithItsReason() {
    // the only A100 windows of this class in slots 100-140: 0.8 sure to last
    TestService.Reply w =
        service.post(
            "/v1/windows",
            provider,
            "w-conf",
            Bodies.window(A100, "ash-a100-c", "0.8", 8, 100, 140, "1.00"));
    assertEquals(201, w.status(), w.body());
    String sure =
        Bodies.bid(A100, 2, 60, 100, 140, "2.00")
            .replaceFirst("\\}$", ",\"minConfidence\":\"0.9\"}");
    TestService.Reply placed = service.post("/v1/bids", bidder, "conf-high", sure);
    assertEquals(201, placed.status(), placed.body());
    assertEquals("0.9", placed.json().get("minConfidence").asText());
    assertTrue(placed.json().get("requeueAvoidsPool").asBoolean());
    String id = placed.json().get("id").asText();
    JsonNode open =
        await(() -> service.get("/v1/bids/" + id, bidder), r -> r.json().hasNonNull("reason"))
            .json();
    assertEquals("BELOW_MIN_CONFIDENCE", open.get("reason").asText(), open.toString());
    assertEquals("open", open.get("status").asText());

    // the same bid content with the window's own confidence is enough: it fills there
    String enough = sure.replace("\"0.9\"", "\"0.80\"");
    TestService.Reply other = service.post("/v1/bids", bidder, "conf-enough", enough);
    assertEquals(201, other.status(), other.body());
    assertEquals("0.8", other.json().get("minConfidence").asText());
    String otherId = other.json().get("id").asText();
    await(
        () -> service.get("/v1/bids/" + otherId, bidder),
        r -> r.json().get("status").asText().equals("filled"));
    assertEquals(
        "BELOW_MIN_CONFIDENCE",
        service.get("/v1/bids/" + id, bidder).json().get("reason").asText());
  }

  @Test
  void shouldFillABidAvoidingAPoolInAnotherPool() {
    // two A100 windows in slots 150-190; the 6-node one is the best fit for 4 nodes
    assertEquals(
        201,
        service
            .post(
                "/v1/windows",
                provider,
                "w-pool-p",
                Bodies.window(A100, "ash-a100-p", "0.95", 8, 150, 190, "1.00"))
            .status());
    assertEquals(
        201,
        service
            .post(
                "/v1/windows",
                provider,
                "w-pool-q",
                Bodies.window(A100, "ash-a100-q", "0.95", 6, 150, 190, "1.00"))
            .status());
    String p = Bodies.poolOf(service, A100, 8, 150, 190);
    String q = Bodies.poolOf(service, A100, 6, 150, 190);
    assertNotEquals(p, q);
    String body =
        Bodies.bid(A100, 4, 60, 150, 190, "2.00")
            .replaceFirst("\\}$", ",\"avoidPools\":[\"" + q + "\"]}");
    TestService.Reply placed = service.post("/v1/bids", bidder, "avoid-q", body);
    assertEquals(201, placed.status(), placed.body());
    assertEquals(List.of(q), List.of(placed.json().get("avoidPools").get(0).asText()));
    String id = placed.json().get("id").asText();
    await(
        () -> service.get("/v1/bids/" + id, bidder),
        r -> r.json().get("status").asText().equals("filled"));
    // the timeline shows the 4 nodes taken in pool p, none in q
    JsonNode windows =
        await(
                () -> service.view("/v1/markets/" + A100 + "/windows"),
                r -> r.body().contains("\"allocated\":4"))
            .json();
    for (JsonNode w : windows.get("windows")) {
      if (!w.get("start").asText().equals(Bodies.slot(150).toString())) {
        continue;
      }
      int allocated = 0;
      for (JsonNode run : w.get("runs")) {
        allocated = Math.max(allocated, run.get("allocated").asInt());
      }
      assertEquals(w.get("pool").asText().equals(p) ? 4 : 0, allocated, w.toString());
    }
  }
}
