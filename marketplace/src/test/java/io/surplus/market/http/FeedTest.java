package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The capacity feed over real HTTP against the real node: ordering, duplicates and gaps, resume
 * after a dropped connection, revocations with and without notice, and random bodies.
 */
class FeedTest {

  static final String H100 = "H100-SXM-80GB";
  static TestService service;
  static long nextAccount = 80;

  @BeforeAll
  static void start() {
    service = TestService.start("feed" + System.nanoTime() % 1_000_000);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static String opened(
      long seq, String id, int nodes, int fromSlot, int toSlot, String reserve, int notice) {
    return FeedTestLines.opened(seq, id, H100, nodes, fromSlot, toSlot, reserve, notice)
        .replace("ash-pool-a", "ash-h100-a");
  }

  static String revoked(long seq, String id, String kind, Instant at, int nodes) {
    return FeedTestLines.revoked(seq, id, kind, at, nodes);
  }

  static TestService.Reply feed(String key, String... lines) {
    return service.post("/v1/feed", key, null, String.join("\n", lines) + "\n");
  }

  static long position(String key) {
    return service.get("/v1/feed/position", key).json().get("lastApplied").asLong();
  }

  static String provider() {
    return service.account(++nextAccount, Role.PROVIDER, 0);
  }

  static String bidder() {
    return service.account(++nextAccount, Role.BIDDER, 100_000_000_000L);
  }

  @Test
  void shouldApplyEachEventOnceWhenAProviderResendsAfterADroppedConnection() throws Exception {
    String key = provider();
    String[] lines = new String[6];
    for (int i = 0; i < 6; i++) {
      lines[i] = opened(i + 1, "drop-" + i, 8, 2, 10, "1.0" + i, 0);
    }
    // a connection that breaks off after three lines: declared longer than what is sent
    String body = String.join("\n", lines[0], lines[1], lines[2]) + "\n";
    byte[] sent = body.getBytes(StandardCharsets.UTF_8);
    try (Socket s = new Socket("127.0.0.1", service.service().port())) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/feed HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: "
                  + (sent.length + 5000)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      out.write(sent);
      out.flush();
      // the three whole lines apply while the body is still open, then the connection drops
      BidFlowTest.await(
          () -> service.get("/v1/feed/position", key),
          r -> r.json().get("lastApplied").asLong() == 3);
    }
    long resumeFrom = service.get("/v1/feed/position", key).json().get("lastApplied").asLong();
    assertEquals(3, resumeFrom);
    // the provider resends everything it is unsure of: 1..6
    TestService.Reply again = feed(key, lines);
    assertEquals(200, again.status(), again.body());
    assertEquals(6, again.json().get("lastApplied").asLong());
    assertEquals(3, again.json().get("applied").asLong());
    assertEquals(3, again.json().get("duplicates").asLong());
    // each window once in the book: six windows at distinct reserves 1.00..1.05
    JsonNode book = service.view("/v1/markets/" + H100 + "/book").json();
    int found = 0;
    for (JsonNode level : book.get("windows")) {
      if (level.get("reservePrice").asText().startsWith("1.0")) {
        found += level.get("windows").asInt();
      }
    }
    assertEquals(6, found, book.toString());
  }

  /** A market's feed writes so far and the events in them, from {@code /metrics}. */
  static double[] feedWrites(String model) {
    String scrape = service.get("/metrics", null).body();
    String label = "market=\"" + model + "\"";
    return new double[] {
      Math.max(0, BidFlowTest.count(scrape, "surplus_market_feed_events_count", label)),
      Math.max(0, BidFlowTest.count(scrape, "surplus_market_feed_events_sum", label))
    };
  }

  @Test
  void shouldApplyConcurrentProvidersEventsInFewerWritesThanEventsInOrder() throws Exception {
    String[] keys = {provider(), provider()};
    double[] before = feedWrites(H100);
    // each provider: 40 windows; then extends 10 of them and revokes a node of 10 others
    List<java.util.concurrent.CompletableFuture<TestService.Reply>> opens = new ArrayList<>();
    for (String key : keys) {
      String[] lines = new String[40];
      for (int i = 0; i < 40; i++) {
        lines[i] = opened(i + 1, "many-" + i, 4, 2, 10, "7.0" + (i % 10), 0);
      }
      opens.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> feed(key, lines)));
    }
    for (java.util.concurrent.CompletableFuture<TestService.Reply> f : opens) {
      TestService.Reply r = f.get();
      assertEquals(200, r.status(), r.body());
      assertEquals(40, r.json().get("lastApplied").asLong());
      assertEquals(40, r.json().get("applied").asLong());
    }
    List<java.util.concurrent.CompletableFuture<TestService.Reply>> changes = new ArrayList<>();
    for (String key : keys) {
      String[] lines = new String[20];
      for (int i = 0; i < 10; i++) {
        lines[2 * i] = FeedTestLines.extended(41 + 2 * i, "many-" + i, Bodies.slot(12).toString());
        lines[2 * i + 1] = revoked(42 + 2 * i, "many-" + (10 + i), "emergency", Instant.now(), 1);
      }
      changes.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> feed(key, lines)));
    }
    for (java.util.concurrent.CompletableFuture<TestService.Reply> f : changes) {
      TestService.Reply r = f.get();
      assertEquals(200, r.status(), r.body());
      assertEquals(60, r.json().get("lastApplied").asLong());
      assertEquals(20, r.json().get("applied").asLong());
    }
    double[] after = feedWrites(H100);
    assertEquals(120, after[1] - before[1], "feed events written to " + H100);
    double writes = after[0] - before[0];
    // about 2 writes per provider for the windows (the first line goes alone, the rest wait for
    // it), and 11 for the changes (a revocation opens a write of its own); 120 without grouping
    assertTrue(writes <= 60, writes + " writes for 120 events");
    for (String key : keys) {
      assertEquals(60, position(key));
    }
  }

  @Test
  void shouldSkipDuplicatesAndRefuseAGapNamingTheLine() {
    String key = provider();
    assertEquals(200, feed(key, opened(1, "g-1", 4, 2, 6, "9.01", 0)).status());
    TestService.Reply gap =
        feed(
            key,
            opened(1, "g-1", 4, 2, 6, "9.01", 0), // duplicate: skipped
            opened(3, "g-3", 4, 2, 6, "9.03", 0)); // 2 is missing
    assertEquals(409, gap.status(), gap.body());
    JsonNode p = gap.json();
    assertEquals(2, p.get("line").asLong());
    assertEquals(1, p.get("lastApplied").asLong());
    assertEquals(2, p.get("expected").asLong());
    assertEquals("seq", p.get("field").asText());
    assertEquals(1, position(key));
  }

  @Test
  void shouldRefuseABadLineAndApplyNothingAfterIt() {
    String key = provider();
    TestService.Reply r =
        feed(
            key,
            opened(1, "b-1", 4, 2, 6, "8.01", 0),
            "{\"type\":\"window.opened\",\"seq\":2,\"nodes\":\"many\"}",
            opened(3, "b-3", 4, 2, 6, "8.03", 0));
    assertEquals(422, r.status(), r.body());
    assertEquals(2, r.json().get("line").asLong());
    assertEquals(1, r.json().get("lastApplied").asLong());
    assertEquals(1, position(key));
  }

  @Test
  void shouldRefuseAPlannedRevocationInsideTheNotice() {
    String key = provider();
    assertEquals(200, feed(key, opened(1, "n-1", 8, 2, 10, "1.11", 3600)).status());
    TestService.Reply r = feed(key, revoked(2, "n-1", "planned", Instant.now().plusSeconds(60), 4));
    assertEquals(422, r.status(), r.body());
    assertEquals("at", r.json().get("field").asText());
    assertEquals(1, position(key));
    // with the notice respected, it applies
    TestService.Reply ok =
        feed(key, revoked(2, "n-1", "planned", Instant.now().plusSeconds(7200), 4));
    assertEquals(200, ok.status(), ok.body());
  }

  @Test
  void shouldPreemptTheLowestPricedLeaseFirstOnAnEmergencyAndBillOnlyWhatWasHeld() {
    String key = provider();
    String bidder = bidder();
    String model = "A100-SXM-80GB";
    String window = opened(1, "e-1", 4, 1, 9, "0.50", 1800).replace(H100, model);
    assertEquals(200, feed(key, window).status());
    TestService.Reply low =
        service.post("/v1/bids", bidder, "low", Bodies.bid(model, 2, 60, 1, 9, "2.00"));
    String lowId = low.json().get("id").asText();
    BidFlowTest.await(
        () -> service.get("/v1/bids/" + lowId, bidder),
        r -> r.json().get("status").asText().equals("filled"));
    TestService.Reply high =
        service.post("/v1/bids", bidder, "high", Bodies.bid(model, 2, 60, 1, 9, "3.00"));
    String highId = high.json().get("id").asText();
    BidFlowTest.await(
        () -> service.get("/v1/bids/" + highId, bidder),
        r -> r.json().get("status").asText().equals("filled"));
    JsonNode leases =
        BidFlowTest.await(
                () -> service.get("/v1/leases", bidder), r -> r.json().get("leases").size() == 2)
            .json();
    // 2 nodes x 8 GPUs x 1 h at $2.00 and at $3.00
    BidFlowTest.await(
        () -> service.get("/v1/account", bidder),
        r -> r.json().get("leased").asText().equals("80.00"));

    TestService.Reply cut = feed(key, revoked(2, "e-1", "emergency", Instant.now(), 2));
    assertEquals(200, cut.status(), cut.body());

    JsonNode after =
        BidFlowTest.await(
                () -> service.get("/v1/leases", bidder), r -> r.body().contains("preemptAt"))
            .json();
    List<String> cutBids = new ArrayList<>();
    for (JsonNode l : after.get("leases")) {
      if (l.has("preemptAt")) {
        cutBids.add(l.get("bidId").asText());
        assertEquals("emergency", l.get("preemptKind").asText());
        assertTrue(
            l.get("status").asText().equals("notified")
                || l.get("status").asText().equals("preempted"));
      }
    }
    assertEquals(List.of(lowId), cutBids);
    // the cut lease had not started: nothing of it is billed; the other stays whole
    BidFlowTest.await(
        () -> service.get("/v1/account", bidder),
        r -> r.json().get("leased").asText().equals("48.00"));
  }

  @Test
  void shouldPutARequeueBidBackInTheBookWhenItsLeaseIsCutAndFillItAgain() {
    String key = provider();
    String bidder = bidder();
    String model = "H200-SXM-141GB";
    assertEquals(
        200, feed(key, opened(1, "rq-1", 2, 1, 9, "0.50", 1800).replace(H100, model)).status());
    String body = Bodies.bid(model, 2, 60, 1, 9, "2.00").replace("}", ",\"requeue\":true}");
    TestService.Reply placed = service.post("/v1/bids", bidder, "rq", body);
    assertEquals(201, placed.status(), placed.body());
    String id = placed.json().get("id").asText();
    BidFlowTest.await(
        () -> service.get("/v1/bids/" + id, bidder),
        r -> r.json().get("status").asText().equals("filled"));
    BidFlowTest.await(
        () -> service.get("/v1/account", bidder),
        r -> !r.json().get("leased").asText().equals("0.00"));

    assertEquals(200, feed(key, revoked(2, "rq-1", "emergency", Instant.now(), 2)).status());
    // back in the book, its freed cost reserved again: 2 nodes x 8 GPUs x 1 h x $2.00
    JsonNode reopened =
        BidFlowTest.await(
                () -> service.get("/v1/bids/" + id, bidder),
                r -> r.json().get("status").asText().equals("open"))
            .json();
    assertEquals("32.00", reopened.get("reserved").asText());
    // the pool that cut it offers again: the requeued bid avoids it (requeueAvoidsPool defaults
    // to true) and says so
    assertEquals(
        200, feed(key, opened(3, "rq-2", 2, 1, 9, "0.50", 1800).replace(H100, model)).status());
    JsonNode avoiding =
        BidFlowTest.await(
                () -> service.get("/v1/bids/" + id, bidder),
                r -> "AVOIDED_POOL".equals(r.json().path("reason").asText()))
            .json();
    assertEquals("open", avoiding.get("status").asText());
    // capacity appears in another pool: it fills again
    assertEquals(
        200,
        feed(
                key,
                opened(4, "rq-3", 2, 1, 9, "0.50", 1800)
                    .replace(H100, model)
                    .replace("ash-h100-a", "ash-h100-b"))
            .status());
    BidFlowTest.await(
        () -> service.get("/v1/bids/" + id, bidder),
        r -> r.json().get("status").asText().equals("filled"));
    JsonNode leases =
        BidFlowTest.await(
                () -> service.get("/v1/leases", bidder),
                r -> r.json().get("leases").size() == 2 && r.body().contains("preemptAt"))
            .json();
    int cut = 0;
    for (JsonNode l : leases.get("leases")) {
      assertEquals(id, l.get("bidId").asText());
      cut += l.has("preemptAt") ? 1 : 0;
    }
    assertEquals(1, cut);
    JsonNode balance =
        BidFlowTest.await(
                () -> service.get("/v1/account", bidder),
                r -> r.json().get("reserved").asText().equals("0.00"))
            .json();
    assertEquals("32.00", balance.get("leased").asText());
  }

  @Test
  void shouldNeverAnswer500NorHalfApplyRandomBodies() {
    String key = provider();
    Random random = new Random(42);
    long expected = 0;
    String[] junk = {
      "{",
      "[]",
      "null",
      "{\"type\":\"window.opened\"}",
      "{\"type\":\"nope\",\"seq\":1}",
      "\u0000\u0001",
      "{\"type\":\"heartbeat\",\"seq\":-1}",
      "{\"type\":\"window.revoked\",\"seq\":9,\"windowId\":\"x\"}",
      "x".repeat(20_000)
    };
    for (int round = 0; round < 25; round++) {
      List<String> lines = new ArrayList<>();
      long model = expected;
      boolean broken = false;
      int n = 1 + random.nextInt(5);
      for (int i = 0; i < n; i++) {
        if (random.nextInt(4) == 0) {
          lines.add(junk[random.nextInt(junk.length)]);
          broken = true;
        } else {
          long seq = model + 1;
          String line =
              random.nextBoolean()
                  ? "{\"type\":\"heartbeat\",\"seq\":" + seq + "}"
                  : opened(seq, "f-" + round + "-" + i, 1 + random.nextInt(8), 2, 6, "7.77", 0);
          lines.add(line);
          if (!broken) {
            model = seq;
          }
        }
      }
      TestService.Reply r = feed(key, lines.toArray(String[]::new));
      assertTrue(r.status() == 200 || r.status() == 422 || r.status() == 409, r.toString());
      assertNotNull(r.json().get("lastApplied"), r.body());
      // everything before the first bad line applied, nothing after it
      assertEquals(model, r.json().get("lastApplied").asLong(), lines + " -> " + r.body());
      assertEquals(model, position(key));
      expected = model;
    }
  }
}
