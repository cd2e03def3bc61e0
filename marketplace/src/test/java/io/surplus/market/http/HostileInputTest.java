package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.engine.SlotClock;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The instants and numbers an attacker sent to {@code ./surplus up} (15-second slots, as the demo
 * runs): each is refused at the edge with a 4xx naming its field, and no market stops. On a grid of
 * 15-second slots an instant in year 3100 or 500 has a slot index past an {@code int}; before the
 * edge checked them, a revocation at such an instant stopped its market until restart, and the
 * others answered 500.
 */
class HostileInputTest {

  static final String H100 = "H100-SXM-80GB";
  static final SlotClock DEMO = new SlotClock(15, 672);
  static TestService service;
  static String bidder;
  static String provider;

  @BeforeAll
  static void start() {
    service =
        TestService.start(
            "hostile" + System.nanoTime() % 1_000_000,
            "surplus.slot-seconds = 15\nsurplus.horizon-slots = 672\n");
    bidder = service.account(11, Role.BIDDER, 1_000_000_000_000L);
    provider = service.account(12, Role.PROVIDER, 0);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  /** An instant {@code minutes} from now, on the demo's grid. */
  static Instant in(int minutes) {
    return DEMO.start(DEMO.slotAtOrAfter(System.currentTimeMillis() + minutes * 60_000L));
  }

  static String bid(String earliestStart, String latestEnd, String extra) {
    return "{\"gpuModel\":\""
        + H100
        + "\",\"nodes\":1,\"durationMinutes\":15,\"earliestStart\":\""
        + earliestStart
        + "\",\"latestEnd\":\""
        + latestEnd
        + "\",\"limitPrice\":\"2.00\""
        + extra
        + "}";
  }

  static String opened(long seq, String id, Instant start, Instant end) {
    return FeedTestLines.opened(seq, id, H100, "ash-h100-a", "us-east", 4, start, end, "1.00", 0);
  }

  static String extended(long seq, String window, String end) {
    return FeedTestLines.extended(seq, window, end);
  }

  static void assertField(TestService.Reply r, int status, String field) {
    assertEquals(status, r.status(), r.toString());
    assertEquals(field, r.json().path("field").asText(), r.toString());
    assertTrue(r.json().has("type") && r.json().has("title"), r.toString());
  }

  /** The market takes a bid at once: it has not stopped. */
  static void assertMarketServes() {
    TestService.Reply placed =
        service.post(
            "/v1/bids",
            bidder,
            "alive-" + System.nanoTime(),
            bid(in(2).toString(), in(60).toString(), ""));
    assertEquals(201, placed.status(), placed.toString());
    TestService.Reply ready =
        TestService.await(() -> service.get("/health/ready", null), r -> r.status() == 200);
    assertEquals(
        "up", ready.json().path("markets").path(H100).path("status").asText(), ready.body());
  }

  @Test
  void shouldRefuseARevocationInYear3100WithoutStoppingTheMarket() {
    String window = "w-" + System.nanoTime();
    long seq = service.get("/v1/feed/position", provider).json().get("lastApplied").asLong();
    TestService.Reply opened =
        FeedTestLines.feed(service, provider, opened(seq + 1, window, in(5), in(90)));
    assertEquals(200, opened.status(), opened.toString());
    TestService.Reply revoked =
        FeedTestLines.feed(
            service,
            provider,
            FeedTestLines.revoked(
                seq + 2, window, "emergency", Instant.parse("3100-01-01T00:00:00Z"), 1));
    assertField(revoked, 422, "at");
    assertEquals(seq + 1, revoked.json().get("lastApplied").asLong(), revoked.toString());
    assertMarketServes();
    // and the same revocation, inside the horizon, still applies
    TestService.Reply again =
        FeedTestLines.feed(
            service, provider, FeedTestLines.revoked(seq + 2, window, "emergency", in(10), 1));
    assertEquals(200, again.status(), again.toString());
  }

  @Test
  void shouldRefuseOutOfRangeInstantsInABidNamingTheField() {
    assertField(
        service.post(
            "/v1/bids", bidder, "far-end", bid(in(2).toString(), "3100-01-01T00:00:00Z", "")),
        422,
        "latestEnd");
    assertField(
        service.post(
            "/v1/bids",
            bidder,
            "far-expiry",
            bid(
                in(2).toString(),
                in(60).toString(),
                ",\"expiresAt\":\"+1000000000-01-01T00:00:00Z\"")),
        422,
        "expiresAt");
    assertField(
        service.post(
            "/v1/bids",
            bidder,
            "neg-end",
            bid(in(2).toString(), "-1000000000-01-01T00:00:00Z", "")),
        422,
        "latestEnd");
    // a start in year 500 is in the past: the bid may start now
    TestService.Reply old =
        service.post(
            "/v1/bids", bidder, "old-start", bid("0500-01-01T00:00:00Z", in(60).toString(), ""));
    assertEquals(201, old.status(), old.toString());
    assertMarketServes();
  }

  @Test
  void shouldAnswerOutOfRangeItemsOfABatchWith422NotRetry() {
    String body =
        "{\"bids\":["
            + bid(in(2).toString(), "3100-01-01T00:00:00Z", "")
            + ","
            + bid(
                in(2).toString(),
                in(60).toString(),
                ",\"expiresAt\":\"+1000000000-01-01T00:00:00Z\"")
            + ","
            + bid(in(2).toString(), in(60).toString(), "")
            + "]}";
    TestService.Reply r = service.post("/v1/bids/batch", bidder, "batch-far", body);
    assertEquals(207, r.status(), r.toString());
    JsonNode items = r.json().get("results");
    assertEquals(422, items.get(0).get("status").asInt(), r.body());
    assertEquals("latestEnd", items.get(0).get("problem").get("field").asText(), r.body());
    assertEquals(422, items.get(1).get("status").asInt(), r.body());
    assertEquals("expiresAt", items.get(1).get("problem").get("field").asText(), r.body());
    assertEquals(201, items.get(2).get("status").asInt(), r.body());
  }

  @Test
  void shouldRefuseAWindowEndingInYear3100() {
    String body =
        "{\"gpuModel\":\""
            + H100
            + "\",\"pool\":\"ash-h100-a\",\"region\":\"us-east\",\"nodes\":4,\"start\":\""
            + in(5)
            + "\",\"end\":\"3100-01-01T00:00:00Z\",\"reservePrice\":\"1.00\",\"noticeSeconds\":0}";
    assertField(service.post("/v1/windows", provider, "w-far", body), 422, "end");
    assertField(
        service.post(
            "/v1/windows",
            provider,
            "w-far-back",
            body.replace("3100-01-01T00:00:00Z", "0500-01-01T00:00:00Z")),
        422,
        "end");
  }

  @Test
  void shouldRefuseFeedLinesOutOfRangeAndTellWhatWasApplied() {
    String p = service.account(13, Role.PROVIDER, 0);
    String window = "w-" + System.nanoTime();
    TestService.Reply far =
        FeedTestLines.feed(
            service,
            p,
            opened(1, window, in(5), in(90)),
            opened(2, window + "-far", in(5), Instant.parse("3100-01-01T00:00:00Z")));
    assertField(far, 422, "end");
    assertEquals(1, far.json().get("lastApplied").asLong(), far.toString());
    assertEquals(2, far.json().get("line").asLong(), far.toString());
    TestService.Reply extended =
        FeedTestLines.feed(service, p, extended(2, window, "3100-01-01T00:00:00Z"));
    assertField(extended, 422, "end");
    assertEquals(1, extended.json().get("lastApplied").asLong(), extended.toString());
    TestService.Reply back =
        FeedTestLines.feed(service, p, extended(2, window, "0500-01-01T00:00:00Z"));
    assertField(back, 422, "end");
    TestService.Reply huge =
        FeedTestLines.feed(service, p, extended(2, window, "+1000000000-01-01T00:00:00Z"));
    assertField(huge, 422, "end");
    assertMarketServes();
  }

  @Test
  void shouldRefuseAnExpiryBeyondTheHorizonNamingIt() {
    assertField(
        service.post(
            "/v1/bids",
            bidder,
            "expiry-9999",
            bid(in(2).toString(), in(60).toString(), ",\"expiresAt\":\"9999-12-31T00:00:00Z\"")),
        422,
        "expiresAt");
  }

  @Test
  void shouldRefuseTextThatNoEventCouldHoldAndABooleanForText() {
    String admin = service.account(14, Role.ADMIN, 0);
    // a lone surrogate: no journal write could take it, so its entity would fail at every attempt
    TestService.Reply lone =
        service.post("/v1/accounts", admin, "lone", "{\"role\":\"bidder\",\"name\":\"x\\ud800y\"}");
    assertEquals(400, lone.status(), lone.toString());
    assertEquals("name", lone.json().get("field").asText(), lone.body());
    TestService.Reply bool =
        service.post("/v1/accounts", admin, "bool", "{\"role\":\"bidder\",\"name\":true}");
    assertEquals(400, bool.status(), bool.toString());
    assertEquals("name", bool.json().get("field").asText(), bool.body());
    // a whole pair is a character like any other
    TestService.Reply pair =
        service.post(
            "/v1/accounts",
            admin,
            "pair",
            "{\"role\":\"bidder\",\"name\":\"gpu \\ud83d\\ude80\",\"creditLimit\":\"1.00\"}");
    assertEquals(201, pair.status(), pair.toString());
  }

  @Test
  void shouldAnswerANumberOfAThousandDigitsWith400() {
    String digits = "9".repeat(1_200);
    TestService.Reply r =
        service.post(
            "/v1/bids",
            bidder,
            "digits",
            "{\"gpuModel\":\"" + H100 + "\",\"nodes\":" + digits + "}");
    assertEquals(400, r.status(), r.toString());
    assertTrue(r.json().get("type").asText().endsWith("/malformed-json"), r.body());
    TestService.Reply price =
        service.post("/v1/windows", provider, "digits-w", "{\"nodes\":" + digits + ".5}");
    assertEquals(400, price.status(), price.toString());
  }
}
