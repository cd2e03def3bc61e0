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
   * {@code -Dsurplus.mix=}: {@code single} (BidSubmission's default), plain placements only, the
   * single-bid figure; {@code documented}, the mix above.
   */
  public static final String MIX = "surplus.mix";

  /** Whether this run sends plain placements only ({@code -Dsurplus.mix=single}, the default). */
  public static boolean onlyPlacements() {
    return !"documented".equals(System.getProperty(MIX, "single"));
  }

  /** A kind of iteration of a pooled client: its share of iterations, its requests and bids. */
  private record Kind(double weight, int requests, int bids, ChainBuilder chain) {}

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

  /**
   * The populations for {@code rate} bids per second for {@code seconds} after the ramp, in the
   * open model: each arrival is a new virtual user, who takes a shared keep-alive connection if one
   * is free and opens another if not (Gatling's shared pool has no bound), as a day's arrivals from
   * many independent clients would. MixedDay uses it on purpose; BidSubmission uses {@link
   * #pooled}.
   */
  public List<PopulationBuilder> populations(
      double rate, double batchShare, int seconds, int startAfterSeconds, boolean onlyPlace) {
    double singles = rate * (1 - batchShare);
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
   * Bids from {@code connections} clients, each a loop that sends a request, waits for its answer
   * and sends the next: as an SDK with a pool of that many keep-alive connections, and as the
   * bare-route ceiling is measured. Plain placements ({@code onlyPlace}), or the documented mix
   * with each kind's share of iterations set so that bids arrive in the same shares as in {@link
   * #populations}. The simulation throttles all of them to {@link #requestsPerSecond}; when the
   * service answers too slowly to reach it, the rate acknowledged falls short of it. A request's
   * response time is measured from its send (time spent waiting for a free client is not in it; the
   * shortfall in rate is where that shows).
   */
  public PopulationBuilder pooled(
      int connections, int seconds, double batchShare, boolean onlyPlace) {
    List<Kind> kinds = kinds(batchShare, onlyPlace);
    double total = kinds.stream().mapToDouble(Kind::weight).sum();
    List<io.gatling.javaapi.core.Choice.WithWeight> choices = new ArrayList<>();
    for (Kind k : kinds) {
      // rounded down: Gatling refuses weights that add up to a hair over 100
      double percent = Math.floor(100_000.0 * k.weight() / total) / 1000;
      choices.add(new io.gatling.javaapi.core.Choice.WithWeight(percent, k.chain()));
    }
    return scenario("pooled")
        .during(Duration.ofSeconds(seconds + RAMP_SECONDS))
        .on(exec(pickBidder()).randomSwitch().on(choices))
        .injectOpen(atOnceUsers(connections));
  }

  /** Requests per second that carry {@code rate} bids per second in {@link #pooled}'s mix. */
  public double requestsPerSecond(double rate, double batchShare, boolean onlyPlace) {
    List<Kind> kinds = kinds(batchShare, onlyPlace);
    double requests = kinds.stream().mapToDouble(k -> k.weight() * k.requests()).sum();
    double bids = kinds.stream().mapToDouble(k -> k.weight() * k.bids()).sum();
    return rate * requests / bids;
  }

  /** The kinds of a pooled client's iterations, weighted as {@link #populations} weighs users. */
  private List<Kind> kinds(double batchShare, boolean onlyPlace) {
    double singles = 1 - batchShare;
    List<Kind> kinds = new ArrayList<>();
    if (onlyPlace) {
      kinds.add(new Kind(1, 1, 1, exec(place("place bid"), record())));
      return kinds;
    }
    if (singles > 0) {
      kinds.add(new Kind(singles * 0.75, 1, 1, exec(place("place bid"), record())));
      // without the think time of the open model's amends and cancels: a pooled client that
      // paused would stand idle, and the pool would measure its own pauses
      kinds.add(new Kind(singles * 0.0625, 3, 2, amendSteps(false)));
      kinds.add(new Kind(singles * 0.125, 2, 1, placeThenCancelSteps(false)));
    }
    if (batchShare > 0) {
      kinds.add(new Kind(batchShare / batchSize, 1, batchSize, batchSteps()));
    }
    return kinds;
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
    return exec(pickBidder(), amendSteps(true));
  }

  private ChainBuilder amendSteps(boolean think) {
    return exec(
        place("place bid"),
        record(),
        think ? exec(s -> s).pause(Duration.ofMillis(100), Duration.ofMillis(500)) : exec(s -> s),
        cancel("amend: cancel"),
        place("amend: replace"),
        record());
  }

  private ChainBuilder placeThenCancel() {
    return exec(pickBidder(), placeThenCancelSteps(true));
  }

  private ChainBuilder placeThenCancelSteps(boolean think) {
    return exec(
        place("place bid"),
        record(),
        think ? exec(s -> s).pause(Duration.ofMillis(200), Duration.ofMillis(2000)) : exec(s -> s),
        cancel("cancel bid"));
  }

  private ChainBuilder batch() {
    return exec(pickBidder(), batchSteps());
  }

  private ChainBuilder batchSteps() {
    return exec(
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
