package io.surplus.engine.whatif;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.EpochResult;
import io.surplus.engine.book.OrderBook;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * A quote is what the next epoch does with the bid: checked against placing the bid on the book and
 * clearing it for real, and the book quoted is left as it was.
 */
class QuoteTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);

  /** Two windows: 4 nodes at a $1.50 reserve now, 8 nodes at $2.00 later; one open bid. */
  static OrderBook book() {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);
    book.offer(new WindowSpec(1, 1, 0, 0, 4, 8, S, S + 8, 1_500_000, 0, 950_000), NOW);
    book.offer(new WindowSpec(2, 1, 1, 0, 8, 8, S + 20, S + 40, 2_000_000, 0, 950_000), NOW);
    book.place(BidSpec.gtc(100, 9, 2, 2, 4, S, S + 8, 3_000_000), NOW);
    return book;
  }

  static BidSpec bid(long id, int nodes, int slots, int from, int to, long limit) {
    return BidSpec.gtc(id, 7, nodes, nodes, slots, S + from, S + to, limit);
  }

  /** The lease the bid gets when it is placed on the book and the book clears, or null. */
  static Lease real(OrderBook book, BidSpec bid) {
    assertEquals(ResultCode.OK, book.place(bid, NOW));
    EpochResult r = book.clear(NOW);
    return r.leases().stream().filter(l -> l.bidId() == bid.id()).findFirst().orElse(null);
  }

  @Test
  void shouldQuoteTheLeaseTheNextEpochMakesAndLeaveTheBookAsItWas() {
    OrderBook book = book();
    byte[] before = book.snapshot();
    BidSpec bid = bid(200, 2, 4, 0, 8, 2_500_000);
    Quote.Result q = Quote.of(book, bid, NOW);
    assertArrayEquals(before, book.snapshot(), "the quoted book is unchanged");
    assertTrue(q.fills());
    Lease real = real(book, bid);
    assertNotNull(real);
    assertEquals(real.startSlot(), q.lease().startSlot());
    assertEquals(real.nodes(), q.lease().nodes());
    assertEquals(real.windowId(), q.lease().windowId());
    assertEquals(real.price(), q.lease().price());
    // pay as clear: the open $3.00 bid and this one fill together, the marginal limit is 2.50
    assertEquals(2_500_000, q.lease().price());
    assertNull(q.reason());
  }

  @Test
  void shouldSayWhyItStaysOpenTheLowestLimitThatFillsAndTheEarliestStartAtItsLimit() {
    OrderBook book = book();
    // below every reserve: fills now at the first window's $1.50
    Quote.Result low = Quote.of(book, bid(201, 2, 4, 0, 8, 1_000_000), NOW);
    assertFalse(low.fills());
    assertEquals(Reason.BELOW_RESERVE, low.reason());
    assertEquals(1_500_000, low.lowestFillingLimit());
    assertTrue(real(book(), bid(201, 2, 4, 0, 8, 1_500_000)) != null, "and it does fill there");
    assertNull(real(book(), bid(201, 2, 4, 0, 8, 1_490_000)), "a cent less does not");

    // 6 nodes before the second window: no capacity in its window at any limit; at its limit
    // ($2.50, above the second window's reserve) it would start with that window, were its end
    // the horizon's
    Quote.Result early = Quote.of(book, bid(202, 6, 4, 0, 12, 2_500_000), NOW);
    assertFalse(early.fills());
    assertEquals(Reason.NO_CAPACITY_IN_WINDOW, early.reason());
    assertEquals(-1, early.lowestFillingLimit());
    assertEquals(S + 20, early.earliestStartAtLimit());

    // outbid: the first window whole (4 nodes, all 8 slots), and the open $3.00 bid takes 2 first
    Quote.Result outbid = Quote.of(book, bid(203, 4, 8, 0, 8, 2_000_000), NOW);
    assertFalse(outbid.fills());
    assertEquals(Reason.OUTBID, outbid.reason());
    // above $3.00 it comes first in the order and takes the 4 nodes: the lowest such whole cent
    assertEquals(3_010_000, outbid.lowestFillingLimit());
  }

  @Test
  void shouldRefuseWhatTheBookWouldRefuse() {
    Quote.Result past =
        Quote.of(book(), BidSpec.gtc(204, 7, 1, 1, 1, S - 10, S - 2, 2_000_000), NOW);
    assertEquals(ResultCode.IN_THE_PAST, past.refused());
    assertFalse(past.fills());
  }
}
