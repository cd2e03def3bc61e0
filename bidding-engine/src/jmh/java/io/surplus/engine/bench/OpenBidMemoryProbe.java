package io.surplus.engine.bench;

import io.surplus.engine.book.OrderBook;
import io.surplus.engine.whatif.RandomMarket;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * Memory: bytes of heap retained per open bid. Builds a book of {@code N} open bids (default
 * 1,000,000) against 512 windows, forces full collections, and divides the growth of used heap by
 * N. The bid specs themselves are not retained: the book keeps bids in primitive arrays. Target:
 * <= 256 bytes per open bid. Run: {@code ./surplus bench memory [N]}.
 */
public final class OpenBidMemoryProbe {

  private OpenBidMemoryProbe() {}

  public static void main(String[] args) throws InterruptedException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    RandomMarket market = new RandomMarket(7, Markets.CLOCK, RandomMarket.Shape.DEFAULT);
    OrderBook empty = Markets.book(market, 512, 0);
    long before = settledUsed(memory);
    OrderBook book = Markets.book(new RandomMarket(7, Markets.CLOCK, RandomMarket.Shape.DEFAULT), 512, n);
    long after = settledUsed(memory);
    System.out.printf(
        "open bids: %d, windows: 512, heap retained by the bids: %.1f MiB, bytes per open bid: %.1f%n",
        book.openBids(), (after - before) / 1048576.0, (after - before) / (double) n);
    if (empty.openBids() != 0) {
      throw new AssertionError("the empty book holds bids");
    }
  }

  private static long settledUsed(MemoryMXBean memory) throws InterruptedException {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
