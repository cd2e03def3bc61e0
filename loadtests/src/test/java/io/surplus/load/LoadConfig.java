package io.surplus.load;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * What a load run is told, as system properties ({@code ./surplus load} sets them): where the
 * service is, the keys to use and how hard to push. Each key has its default beside it.
 */
public record LoadConfig(
    String url,
    String adminKey,
    List<String> bidderKeys,
    List<String> providerKeys,
    double rate,
    int durationSeconds,
    double batchShare,
    int batchSize,
    int p99Millis,
    int subscribers,
    Path out) {

  /** Base URL of the service under load. */
  public static final String URL = "surplus.url";

  /** An admin key: creates the bidders and providers when no keys are given. */
  public static final String ADMIN_KEY = "surplus.adminKey";

  /** Comma-separated bidder keys; empty: create {@link #BIDDERS} bidders with the admin key. */
  public static final String BIDDER_KEYS = "surplus.bidderKeys";

  /** Comma-separated provider keys; empty: create {@link #PROVIDERS} with the admin key. */
  public static final String PROVIDER_KEYS = "surplus.providerKeys";

  /** Bidders to create when none are given: bids of one account are written one at a time. */
  public static final String BIDDERS = "surplus.bidders";

  public static final int DEFAULT_BIDDERS = 64;

  /** Providers to create when none are given: each streams its own feed, in order. */
  public static final String PROVIDERS = "surplus.providers";

  public static final int DEFAULT_PROVIDERS = 32;

  /** Arrivals per second of the simulation's unit (bids, feed events or reads; see each one). */
  public static final String RATE = "surplus.rate";

  /** Seconds of constant arrival rate after a short ramp. */
  public static final String DURATION = "surplus.duration";

  /** Share of BidSubmission's bids that arrive in batches (0..1). */
  public static final String BATCH_SHARE = "surplus.batchShare";

  /** Bids per batch request. */
  public static final String BATCH_SIZE = "surplus.batchSize";

  /** The p99 response time the run must hold, in milliseconds. */
  public static final String P99_MILLIS = "surplus.p99Millis";

  /**
   * Where the subscribers open {@code /v1/stream}: the service's market-data port ({@code
   * ws://host:port}); empty: the API's own port, {@link #URL}.
   */
  public static final String STREAM_URL = "surplus.streamUrl";

  /** WebSocket subscribers on /v1/stream (MarketReaders, MixedDay). */
  public static final String SUBSCRIBERS = "surplus.subscribers";

  /** Where results for the report and the audit are written. */
  public static final String OUT = "surplus.out";

  public static LoadConfig fromSystemProperties(double defaultRate, int defaultP99Millis) {
    return fromSystemProperties(defaultRate, defaultP99Millis, 30);
  }

  public static LoadConfig fromSystemProperties(
      double defaultRate, int defaultP99Millis, int defaultSeconds) {
    return new LoadConfig(
        System.getProperty(URL, "http://127.0.0.1:8080").replaceAll("/+$", ""),
        System.getProperty(ADMIN_KEY, ""),
        list(System.getProperty(BIDDER_KEYS, "")),
        list(System.getProperty(PROVIDER_KEYS, "")),
        Double.parseDouble(System.getProperty(RATE, Double.toString(defaultRate))),
        Integer.getInteger(DURATION, defaultSeconds),
        Double.parseDouble(System.getProperty(BATCH_SHARE, "0.2")),
        Integer.getInteger(BATCH_SIZE, 50),
        Integer.getInteger(P99_MILLIS, defaultP99Millis),
        Integer.getInteger(SUBSCRIBERS, 1000),
        Path.of(System.getProperty(OUT, "target/load")));
  }

  private static List<String> list(String csv) {
    return Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  /** The WebSocket base the subscribers connect to: {@link #STREAM_URL}, else the API's port. */
  public String wsUrl() {
    String stream = System.getProperty(STREAM_URL, "").replaceAll("/+$", "");
    return stream.isEmpty() ? url.replaceFirst("^http", "ws") : stream;
  }
}
