package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.PopulationBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

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
 *
 * <p>With {@code -Dsurplus.readsBy=wrk} ({@code ./surplus load MarketReaders --wrk}) this
 * simulation makes no reads: the harness makes them with wrk (the same mix, {@code
 * loadtests/wrk/reads.lua}) from the moment the load starts, and takes the ceiling with wrk too, so
 * the reads' figures and their ceiling come from a generator that costs the box a fraction of what
 * a JVM's does. The subscribers and the background bids stay here.
 */
public class MarketReaders extends MeasuredSimulation {

  /**
   * Keep-alive clients the reads come from ({@code -Dsurplus.readers}, default 64), each paced to
   * its share of the rate; 0: the open model.
   */
  static final String READERS = "surplus.readers";

  /** Who makes the reads: {@code gatling} (this simulation, the default) or {@code wrk}. */
  static final String READS_BY = "surplus.readsBy";

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
    List<PopulationBuilder> load =
        new ArrayList<>(
            List.of(
                new BidScenarios(bidders, markets, 1).background(20, config.durationSeconds() + 12),
                readsHere()
                    ? reads.subscribers(config.subscribers(), config.durationSeconds(), lag)
                    // wrk reads for the duration once every subscriber is there: each stays that
                    // long after the last one came, and a little more
                    : reads.subscribers(
                        config.subscribers(),
                        config.durationSeconds() + ReadScenarios.SUBSCRIBERS_RAMP_SECONDS + 2,
                        lag,
                        this::subscriberConnected)));
    List<Assertion> checks = new ArrayList<>();
    if (readsHere()) {
      load.add(
          reads.reads(config.rate(), config.durationSeconds(), 5, Integer.getInteger(READERS, 64)));
      for (String read : List.of("book", "markets", "candles", "trades")) {
        checks.add(details(read).responseTime().percentile(99.0).lte(config.p99Millis()));
      }
    }
    checks.add(global().failedRequests().count().is(0L));
    setUp(load).protocols(Protocol.of(config)).assertions(checks);
  }

  private final AtomicInteger connected = new AtomicInteger();

  /**
   * With wrk making the reads: once every subscriber's stream is open, tells the harness in {@code
   * <out>/subscribers-connected} (epoch millis), and wrk's reads start then. They are measured on
   * the steady state the figures describe (the book full, every subscriber there and fed every
   * epoch), not on the storm of 1,000 connections opening: that ramp has its own figures in
   * docs/PERFORMANCE.md.
   */
  private void subscriberConnected() {
    if (connected.incrementAndGet() == config.subscribers()) {
      tellHarness(config, SUBSCRIBERS_CONNECTED);
    }
  }

  /** The file that tells the harness every subscriber is there (wrk's reads start with it). */
  static final String SUBSCRIBERS_CONNECTED = "subscribers-connected";

  @Override
  public void before() {
    super.before();
    if (!readsHere() && config.subscribers() == 0) {
      tellHarness(config, SUBSCRIBERS_CONNECTED); // nobody to wait for
    }
  }

  /** Whether this simulation makes the reads (not wrk). */
  static boolean readsHere() {
    return !"wrk".equals(System.getProperty(READS_BY, "gatling"));
  }

  @Override
  public void after() {
    Map<String, Object> figures = new HashMap<>(lag.figures());
    figures.put("offeredReadsPerSecond", config.rate());
    figures.put("readsBy", readsHere() ? "gatling" : "wrk");
    figures.put("readsP99LimitMillis", config.p99Millis());
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
