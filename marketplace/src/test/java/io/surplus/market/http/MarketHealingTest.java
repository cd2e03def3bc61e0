package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketGate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A market that fails heals: a failure injected into the H100 market while bidders keep placing
 * bids restarts it from its journal; it serves again, readiness says so, every acknowledged bid is
 * still there, nothing stays pending, and no credit stays reserved for a bid that is not open.
 */
class MarketHealingTest {

  static final String H100 = "H100-SXM-80GB";
  static final int CLIENTS = 4;
  static final int BIDS_PER_CLIENT = 25;
  static TestService service;

  @BeforeAll
  static void start() {
    service = TestService.start("heal" + System.nanoTime() % 1_000_000);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  /**
   * A failure from inside the market: a batch with no bids list throws in the command handler, as
   * any bug in a handler would. It goes straight to the entity, past every check at the edge.
   */
  static void injectFailure() {
    ClusterSharding.get(service.system())
        .entityRefFor(MarketGate.ENTITY_KEY, H100)
        .tell(new MarketGate.Forward(new Market.PlaceBids(-1, null, service.system().ignoreRef())));
  }

  /**
   * Places one bid as a client must: a 503 is retried with the same key until the answer is final.
   * The bid's id once acknowledged, or null if the service finally refused it.
   */
  static String placeUntilFinal(String key, String idempotencyKey, String body) {
    TestService.Reply r =
        TestService.await(
            () -> service.post("/v1/bids", key, idempotencyKey, body), x -> x.status() != 503);
    if (r.status() == 201 || r.status() == 200) {
      return r.json().get("id").asText();
    }
    assertEquals(422, r.status(), r.toString()); // not placed: the client would use a new key
    return null;
  }

  @Test
  void shouldRestartAFailedMarketUnderLoadAndLoseNothing() throws Exception {
    String bidder = service.account(31, Role.BIDDER, 1_000_000_000_000L);
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    CountDownLatch someAcknowledged = new CountDownLatch(20);
    AtomicInteger refused = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      running.add(
          clients.submit(
              () -> {
                for (int i = 0; i < BIDS_PER_CLIENT; i++) {
                  String id =
                      placeUntilFinal(
                          bidder,
                          "heal-" + client + "-" + i,
                          Bodies.bid(H100, 1 + i % 3, 60, 2, 20, "0." + (10 + i % 50)));
                  if (id == null) {
                    refused.incrementAndGet();
                  } else {
                    acknowledged.add(id);
                  }
                  someAcknowledged.countDown();
                }
                return null;
              }));
    }
    assertTrue(someAcknowledged.await(120, TimeUnit.SECONDS), "no bids acknowledged");
    injectFailure();
    TestService.Reply restarted =
        TestService.await(
            () -> service.get("/health/ready", null),
            r ->
                r.status() == 200
                    && r.json().path("markets").path(H100).path("restarts").asInt() >= 1);
    assertEquals("up", restarted.json().path("markets").path(H100).path("status").asText());
    for (Future<?> f : running) {
      f.get(300, TimeUnit.SECONDS);
    }
    clients.shutdown();

    // every acknowledged bid is in its market: open with a reason, or filled
    for (String id : acknowledged) {
      TestService.Reply bid = service.get("/v1/bids/" + id, bidder);
      assertEquals(200, bid.status(), bid.toString());
      String status = bid.json().get("status").asText();
      assertTrue(status.equals("open") || status.equals("filled"), bid.body());
    }
    assertEquals(CLIENTS * BIDS_PER_CLIENT, acknowledged.size() + refused.get());
    // nothing the failure caught stays pending: the reconciler settles it with the healed market
    TestService.await(
        () -> service.get("/v1/bids?status=pending", bidder),
        r -> r.status() == 200 && r.json().get("bids").isEmpty());
    // the market clears again: a bid placed now is tried (it gets its reason) by a later epoch (an
    // epoch with nothing new to try is skipped, so the count only moves when there is work)
    long epochAfterLoad = epoch();
    String probe = placeUntilFinal(bidder, "heal-probe", Bodies.bid(H100, 1, 60, 2, 20, "0.05"));
    acknowledged.add(probe);
    TestService.await(() -> service.get("/v1/markets", null), r -> epochOf(r) > epochAfterLoad);
    TestService.await(
        () -> service.get("/v1/bids/" + probe, bidder),
        r -> // an open bid has no reason until an epoch tries it
        r.status() == 200
                && (r.json().hasNonNull("reason")
                    || !r.json().get("status").asText().equals("open")));
    // and once every open bid is cancelled, no credit is left reserved
    for (String id : acknowledged) {
      TestService.Reply cancelled = service.delete("/v1/bids/" + id, bidder);
      assertTrue(cancelled.status() == 200 || cancelled.status() == 409, cancelled.toString());
    }
    TestService.Reply balance =
        TestService.await(
            () -> service.get("/v1/account", bidder),
            r -> r.json().get("reserved").asText().equals("0.00"));
    assertEquals("0.00", balance.json().get("reserved").asText(), balance.body());
  }

  static long epoch() {
    return epochOf(service.get("/v1/markets", null));
  }

  static long epochOf(TestService.Reply markets) {
    for (JsonNode m : markets.json().get("markets")) {
      if (m.get("gpuModel").asText().equals(H100)) {
        return m.get("epoch").asLong();
      }
    }
    throw new AssertionError("no " + H100 + " in " + markets);
  }
}
