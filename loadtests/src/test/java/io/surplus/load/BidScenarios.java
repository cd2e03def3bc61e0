package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.Session;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bidders at a constant arrival rate of {@code rate} bids per second, every write with its own
 * Idempotency-Key: three quarters of the single bids just rest or fill, an eighth are amended
 * (cancel and replace: the API has no in-place amend, as on most exchanges a price change loses
 * time priority), an eighth are cancelled a moment later; {@code batchShare} of all bids come in
 * batches. Every 201 is recorded for the no-loss audit.
 */
public final class BidScenarios {

  /**
   * {@code -Dsurplus.mix=single}: the single bids are all plain placements (no amend, no cancel),
   * the single-bid figure; the default {@code documented} is the mix above.
   */
  public static final String MIX = "surplus.mix";

  /**
   * Whether this run sends plain placements only: {@code -Dsurplus.mix=single}, or single bids from
   * a pool of clients ({@code -Dsurplus.connections}).
   */
  public static boolean onlyPlacements() {
    return "single".equals(System.getProperty(MIX, "documented"))
        || System.getProperty(Protocol.CONNECTIONS) != null;
  }

  /** Seconds of ramp before the constant rate. */
  public static final int RAMP_SECONDS = 5;

  private final List<String> bidders;
  private final List<String> markets;
  private final int batchSize;

  public BidScenarios(List<String> bidders, List<String> markets, int batchSize) {
    this.bidders = bidders;
    this.markets = markets;
    this.batchSize = batchSize;
  }

  /** The populations for {@code rate} bids per second for {@code seconds} after the ramp. */
  public List<PopulationBuilder> populations(
      double rate, double batchShare, int seconds, int startAfterSeconds) {
    double singles = rate * (1 - batchShare);
    boolean onlyPlace = onlyPlacements();
    List<PopulationBuilder> p = new ArrayList<>();
    add(
        p,
        "place",
        onlyPlace ? singles : singles * 0.75,
        seconds,
        startAfterSeconds,
        exec(pickBidder(), place("place bid"), record()));
    if (!onlyPlace) {
      add(p, "amend", singles * 0.0625, seconds, startAfterSeconds, amend());
      add(p, "cancel", singles * 0.125, seconds, startAfterSeconds, placeThenCancel());
    }
    add(p, "batch", rate * batchShare / batchSize, seconds, startAfterSeconds, batch());
    return p;
  }

  /**
   * Single bids from {@code connections} clients, each a loop that places a bid, waits for its
   * answer and places the next: as an SDK with a pool of that many keep-alive connections, and as
   * the bare-route ceiling is measured. The simulation throttles all of them to the target rate;
   * when the service answers too slowly to reach it, the rate acknowledged falls short of it. A
   * bid's response time is measured from its send (time spent waiting for a free connection is not
   * in it; the shortfall in rate is where that shows).
   */
  public PopulationBuilder pooled(int connections, int seconds) {
    return scenario("place")
        .during(Duration.ofSeconds(seconds + RAMP_SECONDS))
        .on(exec(pickBidder(), place("place bid"), record()))
        .injectOpen(atOnceUsers(connections));
  }

  /** A light background of single bids that keeps every market clearing (for readers). */
  public PopulationBuilder background(double rate, int seconds) {
    return scenario("background bids")
        .exec(pickBidder(), place("background bid"))
        .injectOpen(steps(rate, seconds, 0));
  }

  private static void add(
      List<PopulationBuilder> p,
      String name,
      double usersPerSec,
      int seconds,
      int after,
      ChainBuilder chain) {
    if (usersPerSec > 0) {
      p.add(scenario(name).exec(chain).injectOpen(steps(usersPerSec, seconds, after)));
    }
  }

  static OpenInjectionStep[] steps(double usersPerSec, int seconds, int startAfterSeconds) {
    List<OpenInjectionStep> s = new ArrayList<>();
    if (startAfterSeconds > 0) {
      s.add(nothingFor(Duration.ofSeconds(startAfterSeconds)));
    }
    s.add(rampUsersPerSec(Math.max(usersPerSec / 10, 0.1)).to(usersPerSec).during(RAMP_SECONDS));
    s.add(constantUsersPerSec(usersPerSec).during(seconds));
    return s.toArray(OpenInjectionStep[]::new);
  }

  private ChainBuilder pickBidder() {
    return exec(
        s -> {
          String key = bidders.get(ThreadLocalRandom.current().nextInt(bidders.size()));
          return s.set("key", key).set("auth", "Bearer " + key);
        });
  }

  private ChainBuilder place(String name) {
    return exec(s -> s.remove("bidId").set("idem", UUID.randomUUID().toString()))
        .exec(
            http(name)
                .post("/v1/bids")
                .header("Authorization", "#{auth}")
                .header("Idempotency-Key", "#{idem}")
                .body(StringBody(s -> Bids.one(markets)))
                .asJson()
                .check(status().is(201), jsonPath("$.id").saveAs("bidId")));
  }

  private static ChainBuilder record() {
    return doIf(s -> s.contains("bidId")).then(exec(s -> remember(s, s.getString("bidId"))));
  }

  private static Session remember(Session s, String bidId) {
    Acked.bid(s.getString("key"), bidId);
    return s;
  }

  private ChainBuilder cancel(String name) {
    return doIf(s -> s.contains("bidId"))
        .then(
            exec(
                http(name)
                    .delete("/v1/bids/#{bidId}")
                    .header("Authorization", "#{auth}")
                    // 409: it filled or expired first, which a bidder must expect
                    .check(status().in(200, 409))));
  }

  private ChainBuilder amend() {
    return exec(
        pickBidder(),
        place("place bid"),
        record(),
        exec(s -> s).pause(Duration.ofMillis(100), Duration.ofMillis(500)),
        cancel("amend: cancel"),
        place("amend: replace"),
        record());
  }

  private ChainBuilder placeThenCancel() {
    return exec(
        pickBidder(),
        place("place bid"),
        record(),
        exec(s -> s).pause(Duration.ofMillis(200), Duration.ofMillis(2000)),
        cancel("cancel bid"));
  }

  private ChainBuilder batch() {
    return exec(
        pickBidder(),
        exec(s -> s.set("idem", UUID.randomUUID().toString())),
        exec(
            http("place batch")
                .post("/v1/bids/batch")
                .header("Authorization", "#{auth}")
                .header("Idempotency-Key", "#{idem}")
                .body(StringBody(s -> Bids.batch(markets, batchSize)))
                .asJson()
                .check(
                    status().is(201),
                    jsonPath("$.results[*].bid.id").findAll().saveAs("batchIds"))),
        doIf(s -> s.contains("batchIds"))
            .then(
                exec(
                    s -> {
                      Acked.bids(s.getString("key"), s.getList("batchIds"));
                      return s;
                    })));
  }
}
