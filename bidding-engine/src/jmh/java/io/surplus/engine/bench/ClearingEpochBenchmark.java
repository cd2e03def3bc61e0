package io.surplus.engine.bench;

import io.surplus.engine.BidSpec;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.EpochResult;
import io.surplus.engine.book.Depth;
import io.surplus.engine.book.OrderBook;
import io.surplus.engine.whatif.RandomMarket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Epoch clearing on a seeded market of {@code bids} open bids (default 100,000) against {@code
 * windows} windows (default 512) over the 672-slot horizon.
 *
 * <ul>
 *   <li>{@code fullEpoch}: the first epoch of that book: every bid searched. Target <= 50 ms.
 *   <li>{@code incrementalEpoch}: the same book after its first epoch, plus 1,000 new bids and 10
 *       new windows: the next epoch, where failed bids are searched again only against windows
 *       that gained capacity in their range. Target <= 2 ms.
 *   <li>{@code quietEpoch}: the same book after its first epoch, plus 5 new bids and no window: a
 *       full book's usual epoch in a market (a few bids a second, no capacity freed), where every
 *       bid that failed before is skipped and only the new ones are searched.
 *   <li>{@code copy}: {@link OrderBook#copy()} of that same book at its next epoch's cut (the 1,000
 *       new bids still pending), as a market takes one to clear on another thread. Target <= 5 ms.
 *   <li>{@code depth}: {@link OrderBook#depth(long)} of that same book, as a market renders its
 *       view after every epoch, on its own actor.
 * </ul>
 *
 * Each invocation works on a fresh book restored from a snapshot taken in setup (restore is outside
 * the measurement). {@code repair} runs every epoch of the book (the first one in setup included)
 * with the repair pass after the greedy placement ({@code true}), with the pass and its re-pack
 * phase ({@code repack}), or with neither ({@code false}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 20)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class ClearingEpochBenchmark {

  @Param({"100000"})
  int bids;

  @Param({"512"})
  int windows;

  @Param({"false", "true", "repack"})
  String repair;

  private byte[] fresh;
  private byte[] cleared;
  private BidSpec[] newBids;
  private WindowSpec[] newWindows;
  private OrderBook book;

  @Setup(Level.Trial)
  public void setUp() {
    RandomMarket market = new RandomMarket(42, Markets.CLOCK, RandomMarket.Shape.DEFAULT);
    OrderBook b =
        Markets.book(
            market, windows, bids, !repair.equals("false"), repair.equals("repack"));
    fresh = b.snapshot();
    b.clear(Markets.NOW);
    cleared = b.snapshot();
    newBids = new BidSpec[1000];
    for (int i = 0; i < newBids.length; i++) {
      newBids[i] = Markets.gtc(market.bid(Markets.NOW_SLOT, Markets.CLOCK.horizonSlots()));
    }
    newWindows = new WindowSpec[10];
    for (int i = 0; i < newWindows.length; i++) {
      newWindows[i] = market.window(Markets.NOW_SLOT, Markets.CLOCK.horizonSlots());
    }
  }

  /**
   * A fresh book per invocation: the first epoch's image, or the cleared one with the next epoch's
   * arrivals (a quiet epoch's few bids, else 1,000 bids and 10 windows).
   */
  @Setup(Level.Invocation)
  public void restore(org.openjdk.jmh.infra.BenchmarkParams params) {
    String name = params.getBenchmark();
    if (name.endsWith("fullEpoch")) {
      book = OrderBook.restore(fresh);
      return;
    }
    boolean quiet = name.endsWith("quietEpoch");
    book = OrderBook.restore(cleared);
    for (int i = 0; i < (quiet ? QUIET_BIDS : newBids.length); i++) {
      book.place(newBids[i], Markets.NOW);
    }
    for (WindowSpec w : quiet ? new WindowSpec[0] : newWindows) {
      book.offer(w, Markets.NOW);
    }
  }

  @Benchmark
  public EpochResult fullEpoch() {
    return book.clear(Markets.NOW);
  }

  @Benchmark
  public EpochResult incrementalEpoch() {
    return book.clear(Markets.NOW + 1000);
  }

  /** New bids in {@link #quietEpoch}'s epoch. */
  static final int QUIET_BIDS = 5;

  @Benchmark
  public EpochResult quietEpoch() {
    return book.clear(Markets.NOW + 1000);
  }

  @Benchmark
  public OrderBook copy() {
    return book.copy();
  }

  /** The depth a market publishes in its view after each epoch, of the same book as {@link #copy}. */
  @Benchmark
  public Depth depth() {
    return book.depth(Markets.NOW + 1000);
  }
}
