package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.engine.SlotClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/bids/preview} against the real service: the preview agrees with the next epoch.
 * On a market nobody else trades in, each of a seeded series of random bids is previewed, then
 * placed, and the epoch that tries it must fill it where and at the price the preview said, or
 * leave it open with the reason the preview gave. Every slot used lies well ahead, so the clock
 * passing a slot boundary between a preview and its epoch changes nothing either sees.
 */
class PreviewTest {

  static final String A100 = "A100-SXM-80GB";
  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static TestService service;
  static String bidder;
  static String provider;

  /** The first slot of this test's windows and bids: a few slots ahead. */
  static int base;

  @BeforeAll
  static void start() {
    service = TestService.start("preview" + System.nanoTime() % 1_000_000);
    bidder = service.account(21, Role.BIDDER, 1_000_000_000_000L);
    provider = service.account(22, Role.PROVIDER, 0);
    base = CLOCK.slotAtOrAfter(System.currentTimeMillis()) + 4;
    window(4, 10, 20, "1.50");
    window(8, 30, 50, "2.00");
    window(2, 10, 50, "1.00");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static Instant at(int slot) {
    return CLOCK.start(base + slot);
  }

  static void window(int nodes, int from, int to, String reserve) {
    String body =
        "{\"gpuModel\":\""
            + A100
            + "\",\"pool\":\"ash-a100-a\",\"region\":\"us-east\",\"nodes\":"
            + nodes
            + ",\"start\":\""
            + at(from)
            + "\",\"end\":\""
            + at(to)
            + "\",\"reservePrice\":\""
            + reserve
            + "\",\"noticeSeconds\":600}";
    TestService.Reply r = service.post("/v1/windows", provider, "w-" + from + "-" + to, body);
    assertEquals(201, r.status(), r.body());
  }

  static String bid(int nodes, int minutes, int from, int to, String limit) {
    return Bodies.bidAt(A100, nodes, minutes, at(from), at(to), limit);
  }

  @Test
  void shouldFillEachPreviewedBidWhereAndAtThePriceThePreviewSaidOrLeaveItOpenWithItsReason() {
    long seed = 20261126L;
    Random random = new Random(seed);
    List<String> seen = new ArrayList<>();
    int fills = 0;
    for (int i = 0; i < 12; i++) {
      int nodes = 1 + random.nextInt(5);
      int slots = 1 + random.nextInt(4);
      int from = 5 + random.nextInt(40);
      int to = Math.min(from + slots + random.nextInt(12), 60);
      if (to - from < slots) {
        from = to - slots;
      }
      String limit = String.format("%d.%02d", 1 + random.nextInt(3), random.nextInt(100));
      String body = bid(nodes, slots * 15, from, to, limit);
      String what = "seed " + seed + ", bid " + i + ": " + body;

      TestService.Reply preview = service.post("/v1/bids/preview", bidder, null, body);
      assertEquals(200, preview.status(), what + " -> " + preview.body());
      JsonNode p = preview.json();
      seen.add(p.toString());
      TestService.Reply placed = service.post("/v1/bids", bidder, "preview-" + i, body);
      assertEquals(201, placed.status(), what + " -> " + placed.body());
      String id = placed.json().get("id").asText();
      // the epoch that tries it: filled, or open with a reason
      JsonNode after =
          TestService.await(
                  () -> service.get("/v1/bids/" + id, bidder),
                  r ->
                      r.json().get("status").asText().equals("filled")
                          || r.json().hasNonNull("reason"))
              .json();
      if (p.get("wouldFill").asBoolean()) {
        fills++;
        assertEquals("filled", after.get("status").asText(), what + "; preview " + p);
        JsonNode lease =
            TestService.await(
                    () -> service.get("/v1/leases", bidder),
                    r -> r.body().contains("\"bidId\":\"" + id + "\""))
                .json();
        JsonNode mine = null;
        for (JsonNode l : lease.get("leases")) {
          if (l.get("bidId").asText().equals(id)) {
            mine = l;
          }
        }
        assertNotNull(mine);
        assertEquals(p.get("start").asText(), mine.get("start").asText(), what);
        assertEquals(p.get("end").asText(), mine.get("end").asText(), what);
        assertEquals(p.get("nodes").asInt(), mine.get("nodes").asInt(), what);
        assertEquals(p.get("price").asText(), mine.get("price").asText(), what);
        assertTrue(p.get("reason").isNull(), what);
      } else {
        assertEquals("open", after.get("status").asText(), what + "; preview " + p);
        assertEquals(p.get("reason").asText(), after.get("reason").asText(), what);
        if (p.hasNonNull("fillsAtLimit")) {
          assertTrue(
              new java.math.BigDecimal(p.get("fillsAtLimit").asText())
                      .compareTo(new java.math.BigDecimal(limit))
                  > 0,
              what + "; preview " + p);
        }
      }
    }
    // the series exercises both answers
    assertTrue(fills > 0 && fills < 12, fills + " of 12 filled: " + seen);
  }

  @Test
  void shouldWriteNothingAndReserveNothing() {
    String body = bid(1, 15, 12, 16, "2.00");
    String before = service.get("/v1/account", bidder).json().get("reserved").asText();
    int bids = service.get("/v1/bids?status=open", bidder).json().get("bids").size();
    TestService.Reply preview = service.post("/v1/bids/preview", bidder, null, body);
    assertEquals(200, preview.status(), preview.body());
    assertFalse(preview.json().get("reserve").asText().isEmpty());
    assertEquals(before, service.get("/v1/account", bidder).json().get("reserved").asText());
    assertEquals(bids, service.get("/v1/bids?status=open", bidder).json().get("bids").size());
    // asked again, the same answer: nothing changed in between
    JsonNode again = service.post("/v1/bids/preview", bidder, null, body).json();
    assertEquals(preview.json().get("wouldFill"), again.get("wouldFill"));
    assertEquals(preview.json().get("start"), again.get("start"));
  }

  @Test
  void shouldNameTheFieldOfABadBidAndRefuseOtherRoles() {
    TestService.Reply bad =
        service.post("/v1/bids/preview", bidder, null, bid(1, 15, 12, 16, "2.0000001"));
    assertEquals(422, bad.status(), bad.body());
    assertEquals("limitPrice", bad.json().get("field").asText());
    TestService.Reply beyond =
        service.post("/v1/bids/preview", bidder, null, bid(1, 15, 12, 100_000, "2.00"));
    assertEquals(422, beyond.status(), beyond.body());
    assertEquals("latestEnd", beyond.json().get("field").asText());
    TestService.Reply unknown =
        service.post("/v1/bids/preview", bidder, null, "{\"gpuModel\":\"A100-SXM-80GB\",\"x\":1}");
    assertEquals(400, unknown.status(), unknown.body());
    TestService.Reply asProvider =
        service.post("/v1/bids/preview", provider, null, bid(1, 15, 12, 16, "2.00"));
    assertEquals(403, asProvider.status(), asProvider.body());
    TestService.Reply anonymous =
        service.post("/v1/bids/preview", null, null, bid(1, 15, 12, 16, "2.00"));
    assertEquals(401, anonymous.status(), anonymous.body());
  }

  @Test
  void shouldSayABidAvoidingEveryPoolInRangeWouldStayOpenForThatAndAskNoMoreThanItsWindowsGive() {
    String body = bid(1, 15, 10, 50, "9.00");
    // every window of this class is in pool ash-a100-a
    JsonNode timeline = service.view("/v1/markets/" + A100 + "/windows").json();
    String pool = timeline.get("windows").get(0).get("pool").asText();
    for (JsonNode w : timeline.get("windows")) {
      assertEquals(pool, w.get("pool").asText());
    }
    JsonNode avoiding =
        service
            .post(
                "/v1/bids/preview",
                bidder,
                null,
                body.replaceFirst("\\}$", ",\"avoidPools\":[\"" + pool + "\"]}"))
            .json();
    assertFalse(avoiding.get("wouldFill").asBoolean(), avoiding.toString());
    assertEquals("AVOIDED_POOL", avoiding.get("reason").asText(), avoiding.toString());
    // windows given no confidence count as sure (1): asking for 1 changes nothing
    JsonNode plain = service.post("/v1/bids/preview", bidder, null, body).json();
    JsonNode sure =
        service
            .post(
                "/v1/bids/preview",
                bidder,
                null,
                body.replaceFirst("\\}$", ",\"minConfidence\":\"1\"}"))
            .json();
    assertEquals(plain.get("wouldFill"), sure.get("wouldFill"));
    assertEquals(plain.get("start"), sure.get("start"));
    assertEquals(plain.get("reason"), sure.get("reason"));
  }
}
