package io.surplus.feed.sim;

import io.surplus.engine.GpuModel;
import io.surplus.engine.Price;
import io.surplus.engine.TimeInForce;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Seeded outside demand: bids arriving as a Poisson process, deterministic for a seed and config.
 *
 * <p>Sizes follow a heavy head (most bids want 1-8 nodes, a few want 64-128: fine-tuning and batch
 * inference next to the odd small pre-training run); durations are log-uniform from 15 minutes to a
 * day, in whole 15-minute steps; a bid may start within {@code maxLead} and gives itself 1-3 times
 * its duration to run in; limit prices scatter log-normally (to the cent) around each model's
 * reference price, the going rate for on-demand-like preemptible capacity.
 */
public final class DemandGenerator {

  /**
   * What the generator draws from.
   *
   * @param bidsPerHour mean arrivals per hour over all models
   * @param modelShares each model's share of arrivals; they need not sum to 1
   * @param referencePrices each model's price around which limits scatter, decimal strings
   * @param priceSigma log-normal shape of limit prices around the reference
   * @param nodeSizes bid sizes in nodes, with {@code nodeWeights} their relative frequencies
   * @param allOrNothingShare share of bids with {@code minNodes = nodes}; the rest accept half
   * @param iocShare share of IOC bids; the rest are GTC
   * @param minDuration shortest duration
   * @param maxDuration longest duration
   * @param maxLead latest an earliest start lies after the arrival
   * @param maxSlack latest end is at most this many durations after the earliest start
   */
  public record Config(
      double bidsPerHour,
      Map<String, Double> modelShares,
      Map<String, String> referencePrices,
      double priceSigma,
      List<Integer> nodeSizes,
      List<Integer> nodeWeights,
      double allOrNothingShare,
      double iocShare,
      Duration minDuration,
      Duration maxDuration,
      Duration maxLead,
      double maxSlack) {

    /** Mean bid arrivals per hour over all models. */
    public static final double DEFAULT_BIDS_PER_HOUR = 120;

    /** Share of arrivals per GPU model. */
    public static final Map<String, Double> DEFAULT_MODEL_SHARES =
        Map.of("H100-SXM-80GB", 0.55, "H200-SXM-141GB", 0.25, "A100-SXM-80GB", 0.20);

    /** Reference price per GPU model, USD per GPU-hour. */
    public static final Map<String, String> DEFAULT_REFERENCE_PRICES =
        Map.of("H100-SXM-80GB", "2.00", "H200-SXM-141GB", "2.80", "A100-SXM-80GB", "1.10");

    /** Log-normal sigma of limit prices: about 2/3 of bids within 25% of the reference. */
    public static final double DEFAULT_PRICE_SIGMA = 0.25;

    /** Bid sizes in nodes. */
    public static final List<Integer> DEFAULT_NODE_SIZES = List.of(1, 2, 4, 8, 16, 32, 64, 128);

    /** Relative frequency of each size. */
    public static final List<Integer> DEFAULT_NODE_WEIGHTS = List.of(30, 20, 15, 12, 9, 7, 4, 3);

    /** Share of all-or-nothing bids. */
    public static final double DEFAULT_ALL_OR_NOTHING_SHARE = 0.6;

    /** Share of IOC bids. */
    public static final double DEFAULT_IOC_SHARE = 0.15;

    /** Shortest duration: one slot. */
    public static final Duration DEFAULT_MIN_DURATION = Duration.ofMinutes(15);

    /** Longest duration. */
    public static final Duration DEFAULT_MAX_DURATION = Duration.ofHours(24);

    /** Latest earliest start after arrival. */
    public static final Duration DEFAULT_MAX_LEAD = Duration.ofHours(6);

    /** Most room to run, in durations. */
    public static final double DEFAULT_MAX_SLACK = 3.0;

    public Config {
      modelShares = Map.copyOf(modelShares);
      referencePrices = Map.copyOf(referencePrices);
      nodeSizes = List.copyOf(nodeSizes);
      nodeWeights = List.copyOf(nodeWeights);
      if (!(bidsPerHour > 0)) {
        throw new IllegalArgumentException("bidsPerHour must be > 0: bidsPerHour=" + bidsPerHour);
      }
      if (modelShares.isEmpty() || !referencePrices.keySet().containsAll(modelShares.keySet())) {
        throw new IllegalArgumentException(
            "every model needs a reference price: models=" + modelShares.keySet());
      }
      referencePrices.values().forEach(Price::parse);
      if (nodeSizes.isEmpty() || nodeSizes.size() != nodeWeights.size()) {
        throw new IllegalArgumentException("nodeSizes and nodeWeights must pair up");
      }
      if (minDuration.toMinutes() < 1 || minDuration.compareTo(maxDuration) > 0) {
        throw new IllegalArgumentException("durations must satisfy 1 min <= min <= max");
      }
      if (!(maxSlack >= 1)) {
        throw new IllegalArgumentException("maxSlack must be >= 1: maxSlack=" + maxSlack);
      }
    }

    public static Config defaults() {
      return new Config(
          DEFAULT_BIDS_PER_HOUR,
          DEFAULT_MODEL_SHARES,
          DEFAULT_REFERENCE_PRICES,
          DEFAULT_PRICE_SIGMA,
          DEFAULT_NODE_SIZES,
          DEFAULT_NODE_WEIGHTS,
          DEFAULT_ALL_OR_NOTHING_SHARE,
          DEFAULT_IOC_SHARE,
          DEFAULT_MIN_DURATION,
          DEFAULT_MAX_DURATION,
          DEFAULT_MAX_LEAD,
          DEFAULT_MAX_SLACK);
    }
  }

  /** A bid and the simulated instant it arrives. */
  public record Arrival(Instant at, DemandBid bid) {}

  private DemandGenerator() {}

  /** The bids that arrive in {@code [from, from + span)}, in arrival order. */
  public static List<Arrival> generate(Config config, long seed, Instant from, Duration span) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<String> models = config.modelShares().keySet().stream().sorted().toList();
    double shareSum = models.stream().mapToDouble(config.modelShares()::get).sum();
    int weightSum = config.nodeWeights().stream().mapToInt(Integer::intValue).sum();
    double meanGapSeconds = 3600.0 / config.bidsPerHour();
    long step = 15;
    long minSteps = Math.max(1, config.minDuration().toMinutes() / step);
    long maxSteps = Math.max(minSteps, config.maxDuration().toMinutes() / step);
    List<Arrival> out = new ArrayList<>();
    long end = from.getEpochSecond() + span.toSeconds();
    long t = from.getEpochSecond();
    while (true) {
      t += Math.max(1, Math.round(-Math.log(1.0 - rng.nextDouble()) * meanGapSeconds));
      if (t >= end) {
        return out;
      }
      String model = pick(models, config.modelShares(), shareSum, rng.nextDouble());
      int nodes = config.nodeSizes().get(pickIndex(config.nodeWeights(), weightSum, rng));
      int minNodes = rng.nextDouble() < config.allOrNothingShare() ? nodes : Math.max(1, nodes / 2);
      // Log-uniform in 15-minute steps.
      double logSteps =
          Math.log(minSteps) + rng.nextDouble() * (Math.log(maxSteps + 1) - Math.log(minSteps));
      int minutes =
          (int) (Math.min(maxSteps, Math.max(minSteps, (long) Math.exp(logSteps))) * step);
      // On the 15-minute slot grid, never before the arrival, so the API's inward rounding of
      // [earliestStart, latestEnd) leaves the whole room the bid asked for.
      long grid = step * 60;
      long earliest = (t + rng.nextLong(config.maxLead().toSeconds() + 1) + grid - 1) / grid * grid;
      double slack = 1 + rng.nextDouble() * (config.maxSlack() - 1);
      long latest = earliest + (long) Math.ceil(minutes * slack / step) * grid;
      long ref = Price.parse(config.referencePrices().get(model));
      long basisPoints =
          Math.round(Math.exp(config.priceSigma() * RepairTime.gaussian(rng)) * 10_000);
      long cents = Math.max(1, ref * basisPoints / 10_000 / 10_000);
      long limit = Math.min(Price.MAX_MICROS, cents * 10_000);
      TimeInForce tif = rng.nextDouble() < config.iocShare() ? TimeInForce.IOC : TimeInForce.GTC;
      out.add(
          new Arrival(
              Instant.ofEpochSecond(t),
              new DemandBid(
                  new GpuModel(model),
                  nodes,
                  minNodes,
                  minutes,
                  Instant.ofEpochSecond(earliest),
                  Instant.ofEpochSecond(latest),
                  Price.format(limit),
                  tif)));
    }
  }

  /**
   * The demand of a run seeded {@code seed} over {@code days} from {@code start}: each day
   * generated with {@link #daySeed}, one day held at a time (a day of default demand is about 2,900
   * bids). The feed driver and the earnings report both take their bids from here.
   */
  public static Iterator<Arrival> daily(Config config, long seed, Instant start, int days) {
    return new Iterator<>() {
      private final Deque<Arrival> today = new ArrayDeque<>();
      private int nextDay;

      @Override
      public boolean hasNext() {
        while (today.isEmpty() && nextDay < days) {
          today.addAll(
              generate(
                  config,
                  daySeed(seed, nextDay),
                  start.plus(Duration.ofDays(nextDay)),
                  Duration.ofDays(1)));
          nextDay++;
        }
        return !today.isEmpty();
      }

      @Override
      public Arrival next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return today.pollFirst();
      }
    };
  }

  /**
   * The seed of day {@code day}'s demand in a run seeded {@code seed}: the feed driver and the
   * earnings report generate each simulated day with it, so both see the same bids.
   */
  public static long daySeed(long seed, int day) {
    return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (day + 1))).nextLong();
  }

  private static String pick(List<String> keys, Map<String, Double> shares, double sum, double u) {
    double x = u * sum;
    for (String k : keys) {
      x -= shares.get(k);
      if (x < 0) {
        return k;
      }
    }
    return keys.get(keys.size() - 1);
  }

  private static int pickIndex(List<Integer> weights, int sum, SplittableRandom rng) {
    int x = rng.nextInt(sum);
    for (int i = 0; i < weights.size(); i++) {
      x -= weights.get(i);
      if (x < 0) {
        return i;
      }
    }
    return weights.size() - 1;
  }
}
