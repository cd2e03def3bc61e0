package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.holdFor;
import static io.gatling.javaapi.core.CoreDsl.reachRps;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.Simulation.SetUp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Bidders placing, amending (cancel/replace) and cancelling bids, single and in batches, at a
 * constant arrival rate of {@code surplus.rate} bids per second for {@code surplus.duration}
 * seconds. Holds p99 to {@code surplus.p99Millis} with no failed request; writes every acknowledged
 * bid for the no-loss audit. The defaults (50 bids/s, p99 500 ms) are the budget this service holds
 * today on the 2-core machine, a regression guard; the target (5,000 bids/s, p99 50 ms) is
 * missed, by how much is in docs/PERFORMANCE.md.
 */
public class BidSubmission extends MeasuredSimulation {

  private final LoadConfig config = LoadConfig.fromSystemProperties(50, 500);
  private final Setup setup = new Setup(config);
  private final List<String> markets = setup.markets();
  private final List<String> bidders =
      setup.bidders(Integer.getInteger(LoadConfig.BIDDERS, LoadConfig.DEFAULT_BIDDERS));

  {
    setup.offerWindows(setup.providers(1).get(0), markets, 16);
    BidScenarios scenarios = new BidScenarios(bidders, markets, config.batchSize());
    String connections = System.getProperty(Protocol.CONNECTIONS);
    SetUp run =
        connections != null
            // -Dsurplus.connections=C: single bids only, C looping clients throttled to the rate
            ? setUp(scenarios.pooled(Integer.parseInt(connections), config.durationSeconds()))
                .throttle(
                    reachRps((int) Math.round(config.rate()))
                        .in(Duration.ofSeconds(BidScenarios.RAMP_SECONDS)),
                    holdFor(Duration.ofSeconds(config.durationSeconds())))
            : setUp(
                scenarios.populations(
                    config.rate(), config.batchShare(), config.durationSeconds(), 0));
    run.protocols(Protocol.of(config)).assertions(assertions());
  }

  /** p99 and no failure over all, and p99 per kind of request so the summary shows the slow one. */
  private List<Assertion> assertions() {
    List<Assertion> a = new ArrayList<>();
    a.add(global().responseTime().percentile(99.0).lte(config.p99Millis()));
    a.add(global().failedRequests().count().is(0L));
    boolean onlyPlacements = BidScenarios.onlyPlacements();
    if (config.batchShare() < 1 || onlyPlacements) {
      a.add(details("place bid").responseTime().percentile(50.0).lte(config.p99Millis()));
      a.add(details("place bid").responseTime().percentile(99.0).lte(config.p99Millis()));
      if (!onlyPlacements) {
        a.add(details("cancel bid").responseTime().percentile(99.0).lte(config.p99Millis()));
      }
    }
    if (config.batchShare() > 0 && System.getProperty(Protocol.CONNECTIONS) == null) {
      a.add(details("place batch").responseTime().percentile(99.0).lte(config.p99Millis()));
    }
    return a;
  }

  @Override
  public void after() {
    Acked.write(config.out().resolve("acked-bids.txt"));
    Results.write(
        config.out(),
        "BidSubmission",
        Map.of(
            "offeredBidsPerSecond", config.rate(),
            "ackedBids", Acked.rate().total(),
            "ackedBidsPerSecondMedian", Acked.rate().median(BidScenarios.RAMP_SECONDS + 2, 2),
            "batchShare", config.batchShare(),
            "durationSeconds", config.durationSeconds()));
  }
}
