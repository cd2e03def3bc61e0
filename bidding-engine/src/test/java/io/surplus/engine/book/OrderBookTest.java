package io.surplus.engine.book;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Worked examples of the mechanism: placement, pricing, reasons, revocation, incremental epochs.
 */
class OrderBookTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);

  OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);

  static WindowSpec window(long id, int nodes, int start, int end, long reserve, int notice) {
    return new WindowSpec(id, 1, 0, 0, nodes, 8, start, end, reserve, notice, 950_000);
  }

  static BidSpec bid(long id, int nodes, int min, int d, int es, int le, long limit) {
    return BidSpec.gtc(id, 100 + id, nodes, min, d, es, le, limit);
  }

  @Test
  void shouldFillInPriceTimePriorityAndChargeTheLowestFilledLimit() {
    book.offer(window(1, 4, S, S + 8, 1_000_000, 0), NOW);
    book.place(bid(1, 2, 2, 4, S, S + 4, 3_000_000), NOW);
    book.place(bid(2, 2, 2, 4, S, S + 4, 2_000_000), NOW);
    book.place(bid(3, 2, 2, 4, S, S + 4, 2_000_000), NOW); // same price, later: loses
    EpochResult r = book.clear(NOW);
    assertEquals(2, r.leases().size());
    assertEquals(2_000_000, r.clearingPrice());
    assertEquals(2, r.marginalBidId());
    for (Lease l : r.leases()) {
      assertEquals(2_000_000, l.price());
    }
    assertEquals(Reason.OUTBID, book.reason(3));
  }

  @Test
  void shouldRaiseThePriceToTheReserveOfTheWindow() {
    book.offer(window(1, 2, S + 1, S + 8, 1_000_000, 0), NOW);
    book.offer(window(2, 2, S, S + 8, 2_500_000, 0), NOW);
    book.place(bid(1, 2, 2, 4, S, S + 8, 3_000_000), NOW);
    book.place(bid(2, 2, 2, 4, S, S + 8, 2_000_000), NOW);
    EpochResult r = book.clear(NOW);
    assertEquals(2_000_000, r.clearingPrice());
    Lease high = r.leases().stream().filter(l -> l.bidId() == 1).findFirst().orElseThrow();
    Lease low = r.leases().stream().filter(l -> l.bidId() == 2).findFirst().orElseThrow();
    assertEquals(
        2, high.windowId()); // best fit tie -> lowest reserve would pick 1, but 1 is taken?
    assertEquals(2_500_000, high.price());
    assertEquals(2_000_000, low.price());
  }

  @Test
  void shouldPayOwnLimitUnderPayAsBid() {
    OrderBook pab = new OrderBook(CLOCK, PricingRule.PAY_AS_BID);
    pab.offer(window(1, 4, S, S + 8, 1_000_000, 0), NOW);
    pab.place(bid(1, 2, 2, 4, S, S + 4, 3_000_000), NOW);
    pab.place(bid(2, 2, 2, 4, S, S + 4, 2_000_000), NOW);
    EpochResult r = pab.clear(NOW);
    assertEquals(3_000_000, r.leases().get(0).price());
    assertEquals(2_000_000, r.leases().get(1).price());
  }

  @Test
  void shouldPickTheEarliestStartThenTheBestFit() {
    book.offer(window(1, 8, S + 2, S + 10, 1_000_000, 0), NOW);
    book.offer(window(2, 8, S, S + 10, 1_000_000, 0), NOW);
    book.offer(window(3, 3, S, S + 10, 1_000_000, 0), NOW);
    book.place(bid(1, 3, 3, 2, S, S + 10, 2_000_000), NOW);
    Lease l = book.clear(NOW).leases().get(0);
    assertEquals(S, l.startSlot());
    assertEquals(3, l.windowId()); // starts now, leaves 0 free: best fit
  }

  @Test
  void shouldFillPartiallyDownToMinNodes() {
    book.offer(window(1, 3, S, S + 8, 1_000_000, 0), NOW);
    book.offer(window(2, 2, S, S + 8, 1_000_000, 0), NOW);
    book.place(bid(1, 8, 2, 4, S, S + 8, 2_000_000), NOW);
    book.place(bid(2, 5, 5, 4, S + 4, S + 8, 1_900_000), NOW);
    EpochResult r = book.clear(NOW);
    assertEquals(1, r.leases().size());
    assertEquals(3, r.leases().get(0).nodes()); // the largest fill, from one window
    assertEquals(Reason.FRAGMENTED, book.reason(2)); // 3 + 2 free in total, never 5 in one window
  }

  @Test
  void shouldExplainEveryOpenBid() {
    book.offer(
        new WindowSpec(1, 1, 0, 1, 4, 8, S, S + 8, 2_000_000, 300, 950_000), NOW); // region 1
    book.place(bid(1, 2, 2, 4, S, S + 8, 1_000_000), NOW); // below reserve
    book.place(
        new BidSpec(
            2,
            1,
            2,
            2,
            4,
            S,
            S + 8,
            3_000_000,
            0,
            1L,
            TimeInForce.GTC,
            Long.MAX_VALUE,
            false,
            0,
            List.of(),
            false),
        NOW); // region 0 only
    book.place(
        new BidSpec(
            3,
            1,
            2,
            2,
            4,
            S,
            S + 8,
            3_000_000,
            3600,
            -1L,
            TimeInForce.GTC,
            Long.MAX_VALUE,
            false,
            0,
            List.of(),
            false),
        NOW); // wants an hour of notice
    book.place(bid(4, 5, 5, 4, S, S + 8, 3_000_000), NOW); // bigger than the window
    book.place(bid(5, 2, 2, 4, S + 8, S + 16, 3_000_000), NOW); // after the window
    EpochResult r = book.clear(NOW);
    assertTrue(r.leases().isEmpty());
    assertEquals(Reason.BELOW_RESERVE, book.reason(1));
    assertEquals(Reason.REGION, book.reason(2));
    assertEquals(Reason.NOTICE_TOO_SHORT, book.reason(3));
    assertEquals(Reason.NO_CAPACITY_IN_WINDOW, book.reason(4));
    assertEquals(Reason.NO_CAPACITY_IN_WINDOW, book.reason(5));
    assertEquals(5, r.reasonBidIds().length);
  }

  @Test
  void shouldDropIocBidsAfterOneEpochAndExpireGtcBids() {
    book.place(
        new BidSpec(
            1,
            1,
            2,
            2,
            2,
            S,
            S + 8,
            2_000_000,
            0,
            -1L,
            TimeInForce.IOC,
            Long.MAX_VALUE,
            false,
            0,
            List.of(),
            false),
        NOW);
    book.place(
        new BidSpec(
            2,
            1,
            2,
            2,
            2,
            S,
            S + 8,
            2_000_000,
            0,
            -1L,
            TimeInForce.GTC,
            NOW + 1000,
            false,
            0,
            List.of(),
            false),
        NOW);
    book.place(bid(3, 2, 2, 2, S, S + 8, 2_000_000), NOW);
    EpochResult first = book.clear(NOW);
    assertEquals(1, first.unfilledIocBidIds().length);
    assertNull(book.bid(1));
    EpochResult second = book.clear(NOW + 2000);
    assertEquals(2, second.expiredBidIds()[0]);
    assertNull(book.bid(2));
    book.offer(window(1, 4, S, S + 8, 1_000_000, 0), NOW + 2000);
    EpochResult third = book.clear(NOW + 3000);
    assertEquals(3, third.leases().get(0).bidId());
  }

  @Test
  void shouldNotSearchFailedBidsAgainUntilCapacityAppearsInTheirRange() {
    book.offer(window(1, 2, S, S + 8, 1_000_000, 0), NOW);
    book.place(bid(1, 2, 2, 8, S, S + 8, 2_000_000), NOW);
    book.place(bid(2, 2, 2, 4, S, S + 8, 1_500_000), NOW);
    book.place(bid(3, 2, 2, 4, S + 20, S + 40, 1_500_000), NOW);
    EpochResult first = book.clear(NOW);
    assertEquals(3, first.searched());
    EpochResult quiet = book.clear(NOW + 1000);
    assertEquals(0, quiet.searched());
    assertEquals(2, quiet.skipped());
    book.offer(window(2, 2, S + 20, S + 30, 1_000_000, 0), NOW + 2000);
    EpochResult after = book.clear(NOW + 2000);
    assertEquals(1, after.searched()); // only bid 3's range gained capacity
    assertEquals(3, after.leases().get(0).bidId());
  }

  @Test
  void shouldCutTheLowestPriceThenTheLatestAllocatedLease() {
    OrderBook pab = new OrderBook(CLOCK, PricingRule.PAY_AS_BID);
    pab.offer(window(1, 6, S, S + 16, 1_000_000, 1800), NOW);
    pab.place(bid(1, 2, 2, 8, S, S + 16, 3_000_000), NOW);
    pab.place(bid(2, 2, 2, 8, S, S + 16, 2_000_000), NOW);
    pab.clear(NOW);
    pab.place(bid(3, 2, 2, 8, S, S + 16, 2_000_000), NOW + 1000);
    pab.clear(NOW + 1000);
    // planned, 30 minutes ahead: the window keeps 4 nodes; one lease of 2 must go
    long from = NOW + 1_800_000;
    RevocationPlan refused = pab.revoke(1, 4, from - 1, RevocationKind.PLANNED, NOW + 1000);
    assertEquals(ResultCode.NOTICE_VIOLATION, refused.code());
    RevocationPlan plan = pab.revoke(1, 4, from + 1000, RevocationKind.PLANNED, NOW + 1000);
    assertEquals(ResultCode.OK, plan.code());
    assertEquals(1, plan.cuts().size());
    Cut cut = plan.cuts().get(0);
    assertEquals(3, cut.lease().bidId()); // 2.00 twice: the later allocated goes
    assertEquals(from + 1000, cut.preemptAtMillis());
    assertEquals(0, cut.noticeShortfallSeconds());
    assertEquals(RevocationKind.PLANNED, cut.kind());
  }

  @Test
  void shouldApplyEmergencyRevocationAtOnceAndRequeueTheBid() {
    book.offer(window(1, 4, S, S + 16, 1_000_000, 1800), NOW);
    book.place(
        new BidSpec(
            1,
            1,
            4,
            4,
            8,
            S,
            S + 16,
            2_000_000,
            0,
            -1L,
            TimeInForce.GTC,
            Long.MAX_VALUE,
            true,
            0,
            List.of(),
            false),
        NOW);
    book.clear(NOW);
    long at = NOW + 2 * 900_000 + 60_000; // 2 slots and a minute in
    RevocationPlan plan = book.revoke(1, 0, at, RevocationKind.EMERGENCY, at);
    assertEquals(1, plan.cuts().size());
    Cut cut = plan.cuts().get(0);
    assertEquals(at, cut.preemptAtMillis());
    assertEquals(1800, cut.noticeShortfallSeconds());
    assertTrue(cut.requeued());
    BidSpec again = book.bid(1);
    assertEquals(6, again.durationSlots()); // lost slots 2..8 (the partly used slot included)
    assertEquals(S + 3, again.earliestStart());
    assertEquals(4, again.nodes());
    assertEquals(0, book.offeredNodes(1, S + 3));
    assertFalse(book.leasesOf(1).stream().anyMatch(l -> l.endSlot() > S + 2));
  }

  @Test
  void shouldAggregateDepthByPriceWithoutNamingBidsOrWindows() {
    book.offer(window(1, 4, S, S + 8, 1_000_000, 0), NOW);
    book.offer(window(2, 2, S, S + 4, 1_000_000, 0), NOW);
    book.offer(window(3, 8, S + 2, S + 6, 1_500_000, 0), NOW);
    book.place(bid(1, 2, 2, 4, S + 10, S + 20, 3_000_000), NOW);
    book.place(bid(2, 3, 1, 4, S + 10, S + 20, 3_000_000), NOW);
    book.place(bid(3, 1, 1, 4, S + 10, S + 20, 2_000_000), NOW);
    book.cancel(3);
    book.place(bid(4, 5, 5, 4, S + 10, S + 20, 2_500_000), NOW);

    Depth d = book.depth(NOW);

    assertEquals(
        java.util.List.of(new Depth.BidLevel(3_000_000, 2, 5), new Depth.BidLevel(2_500_000, 1, 5)),
        d.bids());
    assertEquals(
        java.util.List.of(
            new Depth.WindowLevel(1_000_000, 2, 6, 4 * 8 + 2 * 4),
            new Depth.WindowLevel(1_500_000, 1, 0, 8 * 4)),
        d.windows());
  }
}
