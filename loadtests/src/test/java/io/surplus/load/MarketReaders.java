package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Market readers: {@code surplus.rate} anonymous book, market list, candle and trade reads per
 * second (default 2,000, from {@code surplus.readers} pooled clients) and {@code
 * surplus.subscribers} WebSocket subscribers (default 1,000) on {@code /v1/stream}, over a light
 * background of bids (20 per second) that keeps every market clearing. Holds the reads' p99 to
 * {@code surplus.p99Millis} (default 20) with no failed request; each epoch's lag to the
 * subscribers (p50, p99, max) is checked by the report against 200 ms, with no gap in a
 * subscriber's epochs and no stream closed by the server as too slow. With {@code
 * -Dsurplus.prefill=N} every market's book holds N more open bids, placed before the clock starts
 * ({@link Setup#prefill}): the reads of a full book.
 */
public class MarketReaders extends MeasuredSimulation {

  /**
   * Keep-alive clients the reads come from ({@code -Dsurplus.readers}, default 64), each paced to
   * its share of the rate; 0: the open model.
   */
  static final String READERS = "surplus.readers";

  private final LoadConfig config = LoadConfig.fromSystemProperties(2000, 20);
  private final Setup setup = new Setup(config);
  private final List<String> markets = setup.markets();
  private final EpochLag lag = new EpochLag(Integer.getInteger("surplus.lagLimitMillis", 200));

  {
    List<String> bidders = setup.bidders(4);
    setup.offerWindows(setup.providers(1).get(0), markets, 16);
    int prefill = Integer.getInteger(Setup.PREFILL, 0);
    if (prefill > 0) {
      long started = System.nanoTime();
      // at most 10,000 open bids per filler account: an account's state holds its open bids
      List<String> fillers = setup.bidders(Math.max(4, prefill * markets.size() / 10_000));
      long taken = setup.prefill(fillers, markets, prefill);
      System.out.printf(
          "prefilled %,d open bids over %d markets in %.1f s%n",
          taken, markets.size(), (System.nanoTime() - started) / 1e9);
    }
    ReadScenarios reads = new ReadScenarios(markets);
    setUp(
            new BidScenarios(bidders, markets, 1).background(20, config.durationSeconds() + 12),
            reads.subscribers(config.subscribers(), config.durationSeconds(), lag),
            reads.reads(
                config.rate(), config.durationSeconds(), 5, Integer.getInteger(READERS, 64)))
        .protocols(Protocol.of(config))
        .assertions(
            details("book").responseTime().percentile(99.0).lte(config.p99Millis()),
            details("markets").responseTime().percentile(99.0).lte(config.p99Millis()),
            details("candles").responseTime().percentile(99.0).lte(config.p99Millis()),
            details("trades").responseTime().percentile(99.0).lte(config.p99Millis()),
            global().failedRequests().count().is(0L));
  }

  @Override
  public void after() {
    Map<String, Object> figures = new HashMap<>(lag.figures());
    figures.put("offeredReadsPerSecond", config.rate());
    figures.put("subscribers", config.subscribers());
    figures.put("durationSeconds", config.durationSeconds());
    long closed = streamsClosedTooSlow();
    if (closed >= 0) {
      figures.put("streamsClosedTooSlow", closed);
    }
    Results.write(config.out(), "MarketReaders", figures);
  }

  /**
   * The service's own count of streams it closed because their client fell behind ({@code
   * surplus_stream_closed_too_slow_total} on {@code /metrics}); -1 when it cannot be read.
   */
  private long streamsClosedTooSlow() {
    try {
      String page =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(config.url() + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return (long)
          page.lines()
              .filter(l -> l.startsWith("surplus_stream_closed_too_slow_total"))
              .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
              .sum();
    } catch (IOException | RuntimeException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
