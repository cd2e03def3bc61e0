package io.surplus.engine.bench;

import io.surplus.engine.BidSpec;
import io.surplus.engine.ResultCode;
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
 * Intake: on a book holding {@code bids} open bids (default 1,000,000) against 512 windows, one
 * operation places a new bid and cancels the oldest open one, so the book keeps its size. Bid
 * shapes come from a ring of 65,536 pre-generated specs; each operation allocates one {@link
 * BidSpec} with a fresh id, as a decoded request would. No epoch runs, so new arrivals accumulate
 * in the pending list as they would between two epochs. Target: >= 2,000,000 ops/s on one thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
public class BookIntakeBenchmark {

  private static final int RING = 1 << 16;

  @Param({"1000000"})
  int bids;

  private OrderBook book;
  private BidSpec[] ring;
  private int next;
  private long nextId;
  private long oldest;

  @Setup(Level.Trial)
  public void setUp() {
    RandomMarket market = new RandomMarket(7, Markets.CLOCK, RandomMarket.Shape.DEFAULT);
    book = Markets.book(market, 512, bids);
    ring = new BidSpec[RING];
    RandomMarket more = new RandomMarket(8, Markets.CLOCK, RandomMarket.Shape.DEFAULT);
    for (int i = 0; i < RING; i++) {
      ring[i] = Markets.gtc(more.bid(Markets.NOW_SLOT, Markets.CLOCK.horizonSlots()));
    }
    nextId = bids + 1L;
    oldest = 1;
  }

  @Benchmark
  public int placeAndCancel() {
    BidSpec t = ring[next];
    next = (next + 1) & (RING - 1);
    BidSpec b = t.withId(nextId++);
    ResultCode placed = book.place(b, Markets.NOW);
    ResultCode cancelled = book.cancel(oldest++);
    return placed.ordinal() + cancelled.ordinal();
  }
}
