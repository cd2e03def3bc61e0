package io.surplus.engine.bench;

import io.surplus.engine.BidSpec;
import io.surplus.engine.WindowSpec;
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
 * The copy a market clears at each epoch's cut, of the book {@link ClearingEpochBenchmark} uses
 * (100,000 open bids, 512 windows, after its first epoch, with 1,000 new bids pending and 10 new
 * windows): {@code copy}, a new book each time, against {@code copyIntoSpare}, the copy made in the
 * book the previous epoch replaced ({@link OrderBook#copyInto}), as a market does. Neither changes
 * the book it copies, so every invocation copies the same book. Run with {@code -prof gc}: its
 * {@code gc.alloc.rate.norm} is what one epoch's copy allocates.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class BookCopyBenchmark {

  @Param({"100000"})
  int bids;

  @Param({"512"})
  int windows;

  private OrderBook book;
  private OrderBook spare;

  @Setup(Level.Trial)
  public void setUp() {
    RandomMarket market = new RandomMarket(42, Markets.CLOCK, RandomMarket.Shape.DEFAULT);
    book = Markets.book(market, windows, bids, false);
    book.clear(Markets.NOW);
    for (int i = 0; i < 1000; i++) {
      BidSpec b = Markets.gtc(market.bid(Markets.NOW_SLOT, Markets.CLOCK.horizonSlots()));
      book.place(b, Markets.NOW);
    }
    for (int i = 0; i < 10; i++) {
      WindowSpec w = market.window(Markets.NOW_SLOT, Markets.CLOCK.horizonSlots());
      book.offer(w, Markets.NOW);
    }
    spare = book.copy();
  }

  @Benchmark
  public OrderBook copy() {
    return book.copy();
  }

  @Benchmark
  public OrderBook copyIntoSpare() {
    return book.copyInto(spare);
  }
}
