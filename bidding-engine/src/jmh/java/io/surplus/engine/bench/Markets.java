package io.surplus.engine.bench;

import io.surplus.engine.BidSpec;
import io.surplus.engine.PricingRule;
import io.surplus.engine.SlotClock;
import io.surplus.engine.book.OrderBook;
import io.surplus.engine.whatif.RandomMarket;
import java.time.Instant;

/** The benchmark markets: seeded, so every run measures the same book. */
final class Markets {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int NOW_SLOT = CLOCK.slotAtOrAfter(NOW);

  private Markets() {}

  /** A book of {@code windows} windows and {@code bids} open bids over the whole horizon. */
  static OrderBook book(RandomMarket market, int windows, int bids) {
    return book(market, windows, bids, false);
  }

  /** {@link #book(RandomMarket, int, int)}, clearing with the repair pass when {@code repair}. */
  static OrderBook book(RandomMarket market, int windows, int bids, boolean repair) {
    return book(market, windows, bids, repair, false);
  }

  /** {@link #book(RandomMarket, int, int, boolean)}, with the pass's re-pack phase when asked. */
  static OrderBook book(
      RandomMarket market, int windows, int bids, boolean repair, boolean repack) {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR, repair, repack, bids);
    for (int i = 0; i < windows; i++) {
      book.offer(market.window(NOW_SLOT, CLOCK.horizonSlots()), NOW);
    }
    for (int i = 0; i < bids; i++) {
      book.place(gtc(market.bid(NOW_SLOT, CLOCK.horizonSlots())), NOW);
    }
    return book;
  }

  /** The same bid as GTC, so a book built for an epoch keeps its size. */
  static BidSpec gtc(BidSpec b) {
    return b.withTimeInForce(io.surplus.engine.TimeInForce.GTC, b.expiresAtMillis());
  }
}
