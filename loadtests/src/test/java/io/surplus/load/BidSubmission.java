package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.holdFor;
import static io.gatling.javaapi.core.CoreDsl.reachRps;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.Simulation.SetUp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bidders placing bids at {@code surplus.rate} bids per second for {@code surplus.duration}
 * seconds. The defaults are the single-bid target: 5,000 plain placements per second for 60 s from
 * a pool of {@code surplus.connections} (64) keep-alive clients, p99 within {@code
 * surplus.p99Millis} (50 ms), no failed request; every acknowledged bid is written for the no-loss
 * audit. {@code -Dsurplus.mix=documented} sends the documented mix instead (single bids amended and
 * cancelled, {@code surplus.batchShare} of the bids in batches of {@code surplus.batchSize});
 * {@code -Dsurplus.connections=0} sends it in the open model (a new virtual user per arrival).
 * Under {@code ./surplus load --kill-after S} the service is killed and restarted mid-run: requests
 * fail while it is down, so only the audit (and bids acknowledged after the restart) is asserted.
 */
public class BidSubmission extends MeasuredSimulation {

  /** Seconds into the load at which the harness kills the service ({@code --kill-after}). */
  static final String KILL_AFTER = "surplus.killAfter";

  private final LoadConfig config = LoadConfig.fromSystemProperties(5000, 50, 60);
  private final Setup setup = new Setup(config);
  private final List<String> markets = setup.markets();
  private final List<String> bidders =
      setup.bidders(Integer.getInteger(LoadConfig.BIDDERS, LoadConfig.DEFAULT_BIDDERS));
  private final boolean onlyPlace = BidScenarios.onlyPlacements();
  private final int connections = Integer.getInteger(Protocol.CONNECTIONS, 64);
  private final boolean killed = System.getProperty(KILL_AFTER) != null;

  {
    setup.offerWindows(setup.providers(1).get(0), markets, 16);
    BidScenarios scenarios = new BidScenarios(bidders, markets, config.batchSize());
    double batchShare = onlyPlace ? 0 : config.batchShare();
    SetUp run =
        connections > 0
            ? setUp(scenarios.pooled(connections, config.durationSeconds(), batchShare, onlyPlace))
                .throttle(
                    reachRps(
                            (int)
                                Math.max(
                                    1,
                                    Math.round(
                                        scenarios.requestsPerSecond(
                                            config.rate(), batchShare, onlyPlace))))
                        .in(Duration.ofSeconds(BidScenarios.RAMP_SECONDS)),
                    holdFor(Duration.ofSeconds(config.durationSeconds())))
            : setUp(
                scenarios.populations(
                    config.rate(), batchShare, config.durationSeconds(), 0, onlyPlace));
    run.protocols(Protocol.of(config)).assertions(assertions(batchShare));
  }

  /** p99 and no failure over all, and p99 per kind of request so the summary shows the slow one. */
  private List<Assertion> assertions(double batchShare) {
    List<Assertion> a = new ArrayList<>();
    if (killed) {
      return a; // requests fail while the service is down; the audit is the check
    }
    a.addAll(p99AndNoFailure(config));
    if (batchShare < 1) {
      a.add(details("place bid").responseTime().percentile(50.0).lte(config.p99Millis()));
      a.add(details("place bid").responseTime().percentile(99.0).lte(config.p99Millis()));
      if (!onlyPlace) {
        a.add(details("cancel bid").responseTime().percentile(99.0).lte(config.p99Millis()));
      }
    }
    if (batchShare > 0) {
      a.add(details("place batch").responseTime().percentile(99.0).lte(config.p99Millis()));
    }
    return a;
  }

  @Override
  public void after() {
    Acked.write(config.out().resolve("acked-bids.txt"));
    Map<String, Object> figures = new HashMap<>();
    figures.put("offeredBidsPerSecond", config.rate());
    figures.put("ackedBids", Acked.rate().total());
    figures.put("ackedBidsPerSecondMedian", Acked.rate().median(BidScenarios.RAMP_SECONDS + 2, 2));
    figures.put("batchShare", onlyPlace ? 0 : config.batchShare());
    figures.put("connections", connections);
    figures.put("durationSeconds", config.durationSeconds());
    long restarted = restartedAtMillis(config);
    if (killed) {
      figures.put("ackedAfterRestart", restarted > 0 ? Acked.rate().since(restarted) : 0);
    }
    Results.write(config.out(), "BidSubmission", figures);
  }
}
