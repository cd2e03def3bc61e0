package io.surplus.engine.book;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.Reason;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Worked examples of the repair pass: what it admits, what it moves, and what it never does. */
class RepairPassTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);

  static WindowSpec window(long id, int nodes, int start, int end, long reserve) {
    return new WindowSpec(id, 1, 0, 0, nodes, 8, start, end, reserve, 0, 950_000);
  }

  static BidSpec bid(long id, int nodes, int min, int d, int es, int le, long limit) {
    return BidSpec.gtc(id, 100 + id, nodes, min, d, es, le, limit);
  }

  static Lease leaseOf(EpochResult r, long bidId) {
    return r.leases().stream().filter(l -> l.bidId() == bidId).findFirst().orElse(null);
  }

  /**
   * One node for two slots; a high bid that may run in either slot, a low one only in the first.
   */
  static OrderBook blocked(boolean repair) {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR, repair);
    book.offer(window(1, 1, S, S + 2, 1_000_000), NOW);
    book.place(bid(1, 1, 1, 1, S, S + 2, 3_000_000), NOW);
    book.place(bid(2, 1, 1, 1, S, S + 1, 2_000_000), NOW);
    return book;
  }

  @Test
  void shouldLeaveTheLowBidOpenWithoutThePass() {
    OrderBook book = blocked(false);
    EpochResult r = book.clear(NOW);
    assertEquals(1, r.leases().size());
    assertEquals(S, leaseOf(r, 1).startSlot());
    assertEquals(Reason.OUTBID, book.reason(2));
    assertEquals(0, r.repairFills());
    assertEquals(3_000_000, r.clearingPrice());
  }

  @Test
  void shouldMoveThisEpochsLeaseToAdmitTheBidItBlocked() {
    OrderBook book = blocked(true);
    EpochResult r = book.clear(NOW);
    assertEquals(2, r.leases().size());
    Lease high = leaseOf(r, 1);
    Lease low = leaseOf(r, 2);
    assertEquals(S + 1, high.startSlot(), "the high bid moved to its other start");
    assertEquals(1, high.nodes());
    assertEquals(S, low.startSlot());
    assertEquals(1, r.repairFills());
    assertEquals(1, r.repairMoves());
    // the uniform price is over the final allocation: the low bid is now the marginal one
    assertEquals(2_000_000, r.clearingPrice());
    assertEquals(2, r.marginalBidId());
    assertEquals(2_000_000, high.price());
    assertEquals(2_000_000, low.price());
    assertEquals(0, book.openBids());
    assertEquals(0, book.freeNodes(1, S));
    assertEquals(0, book.freeNodes(1, S + 1));
  }

  @Test
  void shouldNeverMoveALeaseOfAnEarlierEpoch() {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR, true);
    book.offer(window(1, 1, S, S + 2, 1_000_000), NOW);
    book.place(bid(1, 1, 1, 1, S, S + 2, 3_000_000), NOW);
    EpochResult first = book.clear(NOW);
    assertEquals(S, leaseOf(first, 1).startSlot());
    book.place(bid(2, 1, 1, 1, S, S + 1, 2_000_000), NOW);
    EpochResult second = book.clear(NOW);
    assertTrue(second.leases().isEmpty());
    assertEquals(0, second.repairFills());
    // the earlier lease was there when this epoch began: the bid never fitted, it was not outbid
    assertEquals(Reason.NO_CAPACITY_IN_WINDOW, book.reason(2));
    assertEquals(S, book.leasesOf(1).get(0).startSlot());
  }

  @Test
  void shouldMoveALeaseToAnotherWindowItsBidAllows() {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR, true);
    book.offer(window(1, 2, S, S + 4, 1_000_000), NOW); // best fit for the first bid
    book.offer(window(2, 4, S, S + 4, 1_000_000), NOW);
    book.place(bid(1, 2, 2, 4, S, S + 4, 3_000_000), NOW); // takes all of window 1
    book.place(bid(2, 4, 4, 4, S, S + 4, 2_900_000), NOW); // takes all of window 2
    book.place(bid(3, 2, 2, 4, S, S + 4, 2_000_000), NOW); // nothing left
    OrderBook greedy = book.copy(false);
    EpochResult g = greedy.clear(NOW);
    assertEquals(2, g.leases().size());
    EpochResult r = book.clear(NOW);
    // no move can help: both windows are full for the whole range
    assertEquals(2, r.leases().size());
    assertEquals(g.leases(), r.leases());
    assertEquals(Reason.OUTBID, book.reason(3));

    OrderBook wide = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR, true);
    wide.offer(window(1, 2, S, S + 4, 1_000_000), NOW);
    wide.offer(window(2, 2, S + 4, S + 8, 1_000_000), NOW);
    wide.place(bid(1, 2, 2, 4, S, S + 8, 3_000_000), NOW); // earliest start: window 1
    wide.place(bid(2, 2, 2, 4, S, S + 4, 2_000_000), NOW); // only window 1 holds it
    EpochResult w = wide.clear(NOW);
    assertEquals(2, w.leases().size());
    assertEquals(2, leaseOf(w, 1).windowId(), "moved to the other window");
    assertEquals(1, leaseOf(w, 2).windowId());
    assertEquals(1, w.repairMoves());
  }

  @Test
  void shouldAdmitAnIocBidAndExplainTheRestFromTheFinalAllocation() {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR, true);
    book.offer(window(1, 1, S, S + 2, 1_000_000), NOW);
    book.place(bid(1, 1, 1, 1, S, S + 2, 3_000_000), NOW);
    book.place(bid(4, 2, 2, 1, S, S + 2, 2_500_000), NOW); // never fitted: the window has 1 node
    book.place(ioc(bid(2, 1, 1, 1, S, S + 1, 2_000_000)), NOW);
    book.place(bid(3, 1, 1, 1, S, S + 1, 1_500_000), NOW);
    book.place(ioc(bid(5, 1, 1, 1, S, S + 1, 1_200_000)), NOW);
    EpochResult r = book.clear(NOW);
    assertEquals(2, r.leases().size());
    assertEquals(S + 1, leaseOf(r, 1).startSlot());
    assertEquals(S, leaseOf(r, 2).startSlot(), "the IOC bid waited for the pass and filled");
    assertEquals(Reason.OUTBID, book.reason(3));
    assertEquals(Reason.NO_CAPACITY_IN_WINDOW, book.reason(4));
    assertNull(book.bid(5), "an IOC bid the pass could not admit leaves the book");
    assertArrayEquals(new long[] {5}, r.unfilledIocBidIds());
    assertEquals(2, r.reasonCount(Reason.OUTBID)); // bid 3, and IOC bid 5 as it left
    assertEquals(1, r.reasonCount(Reason.NO_CAPACITY_IN_WINDOW));
    assertEquals(2, r.openBids());
    assertEquals(2_000_000, r.clearingPrice());
  }

  static BidSpec ioc(BidSpec b) {
    return b.withTimeInForce(TimeInForce.IOC, BidSpec.NO_EXPIRY);
  }

  @Test
  void shouldKeepTheSettingThroughSnapshotAndCopy() {
    OrderBook book = blocked(true);
    assertTrue(OrderBook.restore(book.snapshot()).repair());
    assertTrue(book.copy().repair());
    assertFalse(book.copy(false).repair());
    assertFalse(OrderBook.restore(blocked(false).snapshot()).repair());
    EpochResult restored = OrderBook.restore(book.snapshot()).clear(NOW);
    assertEquals(book.clear(NOW).leases(), restored.leases());
  }
}
