package io.surplus.load;

import java.util.List;
import java.util.Map;

/**
 * Providers streaming windows and revocations: {@code surplus.rate} feed events per second (default
 * 1,000) in chunks of {@code surplus.feedChunk} (default 20) from {@code surplus.providers}
 * providers (default 32), each provider's chunks in order. Holds p99 to {@code surplus.p99Millis}
 * (default 200) with no failed request and no dropped arrival.
 */
public class FeedIngestion extends MeasuredSimulation {

  private final LoadConfig config = LoadConfig.fromSystemProperties(1000, 200);
  private final Setup setup = new Setup(config);
  private final List<String> markets = setup.markets();
  private final FeedScenarios feeds =
      new FeedScenarios(
          setup.feeds(
              setup.providers(
                  Integer.getInteger(LoadConfig.PROVIDERS, LoadConfig.DEFAULT_PROVIDERS)),
              markets),
          Integer.getInteger("surplus.feedChunk", 20));

  {
    setUp(feeds.feed(config.rate(), config.durationSeconds(), 0))
        .protocols(Protocol.of(config))
        .assertions(p99AndNoFailure(config));
  }

  @Override
  public void after() {
    Results.write(
        config.out(),
        "FeedIngestion",
        Map.of(
            "offeredEventsPerSecond", config.rate(),
            "appliedEvents", feeds.events().total(),
            "appliedEventsPerSecondMedian", feeds.events().median(BidScenarios.RAMP_SECONDS + 2, 2),
            "droppedArrivals", feeds.dropped(),
            "durationSeconds", config.durationSeconds()));
  }
}
