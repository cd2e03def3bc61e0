package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Concurrent bids from one account across markets never commit more than its credit limit. */
class CreditTest {

  static TestService service;

  @BeforeAll
  static void start() {
    service = TestService.start("cred" + System.nanoTime() % 1_000_000);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void shouldNeverCommitMoreThanTheCreditLimitUnderConcurrentBidsAcrossMarkets() {
    // $1,000 of credit; each bid may cost 1 node x 8 GPUs x 1 h x $12.50 = $100
    String bidder = service.account(41, Role.BIDDER, 1_000_000_000L);
    String[] markets = {"H100-SXM-80GB", "H200-SXM-141GB", "A100-SXM-80GB"};
    AtomicInteger created = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = 0; i < 36; i++) {
      String body = Bodies.bid(markets[i % 3], 1, 60, 4, 20, "12.50");
      String key = "credit-" + i;
      all.add(
          CompletableFuture.runAsync(
              () -> {
                TestService.Reply r = service.post("/v1/bids", bidder, key, body);
                if (r.status() == 201) {
                  created.incrementAndGet();
                } else {
                  assertEquals(422, r.status(), r.body());
                  assertTrue(r.body().contains("insufficient-credit"), r.body());
                  refused.incrementAndGet();
                }
              }));
    }
    all.forEach(CompletableFuture::join);
    assertEquals(10, created.get());
    assertEquals(26, refused.get());
    var balance = service.get("/v1/account", bidder).json();
    assertEquals("1000.00", balance.get("reserved").asText());
    assertEquals("0.00", balance.get("available").asText());
    assertEquals(10, service.get("/v1/bids?status=open", bidder).json().get("bids").size());
  }

  @Test
  void shouldFreeCreditWhenABidIsCancelled() {
    String bidder = service.account(42, Role.BIDDER, 100_000_000L); // $100
    String body = Bodies.bid("H100-SXM-80GB", 1, 60, 4, 20, "12.50");
    TestService.Reply first = service.post("/v1/bids", bidder, "c1", body);
    assertEquals(201, first.status(), first.body());
    assertEquals(422, service.post("/v1/bids", bidder, "c2", body).status());
    assertEquals(
        200, service.delete("/v1/bids/" + first.json().get("id").asText(), bidder).status());
    assertEquals(201, service.post("/v1/bids", bidder, "c3", body).status());
  }
}
