package io.surplus.load;

import io.gatling.javaapi.core.PopulationBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A trading day in miniature, everything at once at the ratio of a busy market: for {@code
 * surplus.rate} bids per second (default 300; a fifth in batches), twice as many market-data reads,
 * half as many feed events from the providers, and {@code surplus.subscribers} WebSocket
 * subscribers (default 250). Holds p99 to {@code surplus.p99Millis} (default 100) with no failed
 * request; the report adds the subscribers' epoch lag, the no-loss audit and the service's heap.
 */
public class MixedDay extends MeasuredSimulation {

  private final LoadConfig config = LoadConfig.fromSystemProperties(300, 100);
  private final Setup setup = new Setup(config);
  private final List<String> markets = setup.markets();
  private final List<String> bidders =
      setup.bidders(Integer.getInteger(LoadConfig.BIDDERS, LoadConfig.DEFAULT_BIDDERS));
  private final List<String> providers =
      setup.providers(Integer.getInteger(LoadConfig.PROVIDERS, LoadConfig.DEFAULT_PROVIDERS));
  private final FeedScenarios feeds =
      new FeedScenarios(setup.feeds(providers.subList(1, providers.size()), markets), 10);
  private final EpochLag lag = new EpochLag(Integer.getInteger("surplus.lagLimitMillis", 200));

  {
    setup.offerWindows(providers.get(0), markets, 16);
    int seconds = config.durationSeconds();
    ReadScenarios reads = new ReadScenarios(markets);
    List<PopulationBuilder> all =
        new ArrayList<>(
            new BidScenarios(bidders, markets, config.batchSize())
                .populations(config.rate(), config.batchShare(), seconds, 0, false));
    all.add(reads.reads(config.rate() * 2, seconds, 0, 0)); // the open model: a day's arrivals
    all.add(feeds.feed(config.rate() / 2, seconds, 0));
    all.add(reads.subscribers(Integer.getInteger(LoadConfig.SUBSCRIBERS, 250), seconds, lag));
    setUp(all).protocols(Protocol.of(config)).assertions(p99AndNoFailure(config));
  }

  @Override
  public void after() {
    Acked.write(config.out().resolve("acked-bids.txt"));
    Map<String, Object> figures = new HashMap<>(lag.figures());
    figures.put("offeredBidsPerSecond", config.rate());
    figures.put("ackedBids", Acked.rate().total());
    figures.put("ackedBidsPerSecondMedian", Acked.rate().median(BidScenarios.RAMP_SECONDS + 2, 2));
    figures.put(
        "appliedEventsPerSecondMedian", feeds.events().median(BidScenarios.RAMP_SECONDS + 2, 2));
    figures.put("droppedFeedArrivals", feeds.dropped());
    figures.put("durationSeconds", config.durationSeconds());
    Results.write(config.out(), "MixedDay", figures);
  }
}
