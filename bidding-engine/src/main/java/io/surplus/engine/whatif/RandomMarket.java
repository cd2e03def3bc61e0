package io.surplus.engine.whatif;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Price;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import java.util.SplittableRandom;

/**
 * A seeded source of plausible windows and bids for one market: 8-GPU nodes, windows from an hour
 * to days, bids from one node to a few dozen for 15 minutes to a day, prices around $2 per
 * GPU-hour. The same seed gives the same stream; used by the what-if command, the property tests
 * and the benchmarks.
 */
public final class RandomMarket {

  /** Shape of the generated market. */
  public record Shape(
      int maxWindowNodes,
      int maxBidNodes,
      int maxDurationSlots,
      int regions,
      double partialShare,
      double iocShare,
      double noticeShare) {

    /** A market like the benchmark's: windows up to 64 nodes, bids up to 16 nodes and 8 hours. */
    public static final Shape DEFAULT = new Shape(64, 16, 32, 4, 0.3, 0.05, 0.1);

    /** A small market for exhaustive checks: few nodes, short durations. */
    public static final Shape SMALL = new Shape(6, 4, 4, 2, 0.3, 0.1, 0.1);
  }

  private final SplittableRandom random;
  private final SlotClock clock;
  private final Shape shape;
  private long nextBidId = 1;
  private long nextWindowId = 1;
  private long arrivals;

  public RandomMarket(long seed, SlotClock clock, Shape shape) {
    this.random = new SplittableRandom(seed);
    this.clock = clock;
    this.shape = shape;
  }

  /** A window starting within {@code [nowSlot, nowSlot + spanSlots)} and ending by the horizon. */
  public WindowSpec window(int nowSlot, int spanSlots) {
    int horizonEnd = nowSlot + Math.min(spanSlots, clock.horizonSlots());
    int start = nowSlot + random.nextInt(Math.max(1, horizonEnd - nowSlot - 1));
    int len = 4 + random.nextInt(Math.max(1, Math.min(horizonEnd - start, 8 * 96) - 3));
    int end = Math.min(horizonEnd, start + len);
    if (end <= start) {
      end = start + 1;
    }
    long reserve = 1_000_000L + random.nextInt(0, 1_500_001);
    int notice = random.nextDouble() < 0.5 ? 300 : 1800;
    return new WindowSpec(
        nextWindowId++,
        1 + random.nextInt(4),
        random.nextInt(8),
        random.nextInt(shape.regions()),
        1 + random.nextInt(shape.maxWindowNodes()),
        8,
        start,
        end,
        reserve,
        notice,
        900_000 + random.nextInt(100_001));
  }

  /** A bid whose range lies within {@code [nowSlot, nowSlot + spanSlots)}. */
  public BidSpec bid(int nowSlot, int spanSlots) {
    arrivals++;
    int horizon = Math.min(spanSlots, clock.horizonSlots());
    int duration = 1 + random.nextInt(Math.min(shape.maxDurationSlots(), horizon));
    int slack = random.nextInt(Math.max(1, horizon - duration + 1));
    int es = nowSlot + random.nextInt(Math.max(1, horizon - duration - slack + 1));
    int le = Math.min(nowSlot + horizon, es + duration + slack);
    int nodes = 1 + random.nextInt(shape.maxBidNodes());
    int minNodes = random.nextDouble() < shape.partialShare() ? 1 + random.nextInt(nodes) : nodes;
    long limit = 800_000L + random.nextInt(0, 3_200_001);
    int minNotice = random.nextDouble() < shape.noticeShare() ? 1800 : 0;
    long regions =
        random.nextDouble() < 0.15 ? 1L << random.nextInt(shape.regions()) : BidSpec.ANY_REGION;
    TimeInForce tif = random.nextDouble() < shape.iocShare() ? TimeInForce.IOC : TimeInForce.GTC;
    return new BidSpec(
        nextBidId++,
        1 + random.nextInt(1000),
        nodes,
        minNodes,
        duration,
        es,
        le,
        limit - limit % 10_000,
        minNotice,
        regions,
        tif,
        BidSpec.NO_EXPIRY,
        random.nextDouble() < 0.2,
        0,
        java.util.List.of(),
        false);
  }

  public long arrivals() {
    return arrivals;
  }

  public SplittableRandom random() {
    return random;
  }

  /** Formats a price for printing. */
  static String dollars(long micros) {
    return Price.format(micros);
  }
}
