package io.surplus.engine.book;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.whatif.RandomMarket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The invariants of DESIGN.md's "The mechanism", on random markets over several epochs. */
class ClearingPropertiesTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final int START_SLOT = CLOCK.slotAtOrAfter(Instant.parse("2026-11-02T00:00:00Z"));
  static final long SLOT_MILLIS = CLOCK.slotSeconds() * 1000L;

  /** A random market driven through several epochs, checking every invariant after each. */
  static final class Run {
    final OrderBook book;
    final RandomMarket market;
    final Map<Long, BidSpec> placed = new HashMap<>();
    final Map<Long, WindowSpec> windows = new HashMap<>();
    final Set<Long> cancelled = new HashSet<>();
    final List<EpochResult> results = new ArrayList<>();
    final List<String> trace = new ArrayList<>();
    long now = CLOCK.startMillis(START_SLOT);

    Run(long seed, RandomMarket.Shape shape, PricingRule rule) {
      this.book = new OrderBook(CLOCK, rule);
      this.market = new RandomMarket(seed, CLOCK, shape);
    }

    void epoch(int newWindows, int newBids, int span, boolean revoke) {
      int nowSlot = CLOCK.slotAtOrAfter(now);
      for (int i = 0; i < newWindows; i++) {
        WindowSpec w = market.window(nowSlot, span);
        if (book.offer(w, now) == ResultCode.OK) {
          windows.put(w.id(), w);
        }
      }
      for (int i = 0; i < newBids; i++) {
        BidSpec b = market.bid(nowSlot, span);
        if (market.random().nextInt(10) == 0) {
          b =
              b.withTimeInForce(
                  b.timeInForce(), now + market.random().nextLong(0, 2 * SLOT_MILLIS));
        }
        ResultCode rc = book.place(b, now);
        trace.add("place " + b.id() + " " + rc);
        if (rc == ResultCode.OK) {
          placed.put(b.id(), b);
        }
      }
      for (Long id : List.copyOf(placed.keySet())) {
        if (market.random().nextInt(20) == 0 && book.cancel(id) == ResultCode.OK) {
          cancelled.add(id);
        }
      }
      if (revoke && !windows.isEmpty()) {
        List<Long> ids = new ArrayList<>(windows.keySet());
        ids.sort(null);
        long wid = ids.get(market.random().nextInt(ids.size()));
        WindowSpec w = windows.get(wid);
        if (book.window(wid) != null) {
          int keep = market.random().nextInt(w.nodes());
          long from = now + market.random().nextLong(0, 8 * SLOT_MILLIS);
          RevocationPlan plan = book.revoke(wid, keep, from, RevocationKind.EMERGENCY, now);
          assertEquals(ResultCode.OK, plan.code());
          for (Cut c : plan.cuts()) {
            if (c.requeued()) {
              BidSpec again = book.bid(c.lease().bidId());
              placed.put(again.id(), again);
            }
          }
        }
      }
      EpochResult r = book.clear(now);
      results.add(r);
      check(r);
      now += SLOT_MILLIS + market.random().nextLong(0, 3 * SLOT_MILLIS);
    }

    void check(EpochResult r) {
      Set<Long> filled = new HashSet<>();
      for (Lease l : r.leases()) {
        BidSpec b = placed.get(l.bidId());
        WindowSpec w = windows.get(l.windowId());
        assertTrue(filled.add(l.bidId()), "a bid fills at most once per epoch: " + l);
        assertFalse(cancelled.contains(l.bidId()), "cancelled bid filled: " + l);
        assertTrue(b.expiresAtMillis() > now, "expired bid filled: " + l);
        assertTrue(l.startSlot() >= Math.max(b.earliestStart(), r.nowSlot()), "starts early: " + l);
        assertTrue(l.endSlot() <= b.latestEnd(), "ends late: " + l);
        assertEquals(b.durationSlots(), l.endSlot() - l.startSlot(), "duration: " + l);
        assertTrue(l.startSlot() >= w.startSlot() && l.endSlot() <= book.windowEnd(w.id()));
        assertTrue(l.nodes() >= b.minNodes() && l.nodes() <= b.nodes(), "nodes: " + l);
        assertTrue(l.price() >= w.reservePrice(), "below reserve: " + l);
        assertTrue(l.price() <= b.limitPrice(), "above limit: " + l);
        assertTrue(w.noticeSeconds() >= b.minNoticeSeconds(), "notice: " + l);
        assertTrue((b.regionMask() & (1L << w.region())) != 0, "region: " + l);
        placed.remove(l.bidId());
      }
      for (long id : r.expiredBidIds()) {
        assertNull(book.bid(id));
        placed.remove(id);
      }
      for (long id : r.unfilledIocBidIds()) {
        assertNull(book.bid(id));
        placed.remove(id);
      }
      cancelled.forEach(placed::remove);
      // no over-allocation, and free = offered - leased, in every slot of every window
      for (WindowSpec w : windows.values()) {
        if (book.window(w.id()) == null) {
          continue;
        }
        int end = book.windowEnd(w.id());
        int[] used = new int[end - w.startSlot()];
        for (Lease l : book.leasesOf(w.id())) {
          for (int t = l.startSlot(); t < l.endSlot(); t++) {
            used[t - w.startSlot()] += l.nodes();
          }
        }
        for (int t = Math.max(w.startSlot(), r.nowSlot()); t < end; t++) {
          int offered = book.offeredNodes(w.id(), t);
          assertTrue(used[t - w.startSlot()] <= offered, "over-allocated window " + w.id());
          assertEquals(offered - used[t - w.startSlot()], book.freeNodes(w.id(), t));
        }
      }
      // IOC never survives; every open bid is maximal: it fits nowhere in what is left
      for (BidSpec b : placed.values()) {
        BidSpec open = book.bid(b.id());
        assertTrue(open != null, "bid vanished: " + b);
        assertEquals(TimeInForce.GTC, open.timeInForce(), "IOC survived its epoch: " + b);
        assertFalse(fitsSomewhere(open, r.nowSlot()), "open bid fits: " + open);
      }
      assertEquals(placed.size(), book.openBids());
    }

    boolean fitsSomewhere(BidSpec b, int nowSlot) {
      for (WindowSpec w : windows.values()) {
        if (book.window(w.id()) == null
            || w.reservePrice() > b.limitPrice()
            || w.noticeSeconds() < b.minNoticeSeconds()
            || (b.regionMask() & (1L << w.region())) == 0) {
          continue;
        }
        int end = Math.min(b.latestEnd(), book.windowEnd(w.id()));
        for (int s = Math.max(Math.max(b.earliestStart(), nowSlot), w.startSlot());
            s + b.durationSlots() <= end;
            s++) {
          int min = Integer.MAX_VALUE;
          for (int t = s; t < s + b.durationSlots(); t++) {
            min = Math.min(min, book.freeNodes(w.id(), t));
          }
          if (min >= b.minNodes()) {
            return true;
          }
        }
      }
      return false;
    }
  }

  @Property(tries = 60)
  void shouldHoldEveryInvariantOnRandomMarkets(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 1) int pricing) {
    Run run = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.values()[pricing]);
    for (int e = 0; e < 6; e++) {
      run.epoch(2, 12, 32, e % 2 == 1);
    }
  }

  @Property(tries = 15)
  void shouldHoldEveryInvariantOnLargerMarkets(@ForAll long seed) {
    Run run = new Run(seed, RandomMarket.Shape.DEFAULT, PricingRule.PAY_AS_CLEAR);
    for (int e = 0; e < 4; e++) {
      run.epoch(8, 150, 96, e == 2);
    }
  }

  @Property(tries = 40)
  void shouldChargeOneUniformPriceUnderPayAsClear(@ForAll long seed) {
    Run run = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR);
    run.epoch(3, 20, 32, false);
    EpochResult r = run.results.get(0);
    for (Lease l : r.leases()) {
      long reserve = run.windows.get(l.windowId()).reservePrice();
      assertEquals(Math.max(r.clearingPrice(), reserve), l.price());
      assertTrue(r.clearingPrice() <= l.limitPrice());
    }
  }

  @Property(tries = 30)
  void shouldGiveIdenticalOutputForIdenticalInputs(@ForAll long seed) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR);
    Run b = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR);
    for (int e = 0; e < 5; e++) {
      a.epoch(2, 10, 32, e == 3);
      b.epoch(2, 10, 32, e == 3);
      assertSameResult(a.results.get(e), b.results.get(e));
      assertArrayEquals(a.book.snapshot(), b.book.snapshot());
    }
  }

  @Property(tries = 30)
  void shouldBehaveIdenticallyAfterSnapshotAndRestore(@ForAll long seed) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR);
    a.epoch(2, 12, 32, false);
    a.epoch(1, 6, 32, true);
    byte[] image = a.book.snapshot();
    OrderBook restored = OrderBook.restore(image);
    assertArrayEquals(image, restored.snapshot(), "restore(snapshot()).snapshot() differs");

    // drive the original and the restored book with the same further inputs
    RandomMarket more = new RandomMarket(seed ^ 0x5eed, CLOCK, RandomMarket.Shape.SMALL);
    long now = a.now;
    for (int e = 0; e < 3; e++) {
      int nowSlot = CLOCK.slotAtOrAfter(now);
      for (int i = 0; i < 8; i++) {
        BidSpec bid = more.bid(nowSlot, 32);
        BidSpec shifted = bid.withId(1_000_000 + bid.id());
        assertEquals(a.book.place(shifted, now), restored.place(shifted, now));
      }
      WindowSpec w = more.window(nowSlot, 32);
      WindowSpec wShifted = withWindowId(w, 1_000_000 + w.id());
      assertEquals(a.book.offer(wShifted, now), restored.offer(wShifted, now));
      assertSameResult(a.book.clear(now), restored.clear(now));
      assertArrayEquals(a.book.snapshot(), restored.snapshot());
      now += SLOT_MILLIS;
    }
  }

  @Property(tries = 30)
  void shouldBehaveIdenticallyAfterCopyAndNeverShareState(@ForAll long seed) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR);
    a.epoch(2, 12, 32, false);
    a.epoch(1, 6, 32, true);
    byte[] before = a.book.snapshot();
    OrderBook copy = a.book.copy();
    assertArrayEquals(before, copy.snapshot(), "copy().snapshot() differs");

    // the copy clears alone (as a market's clearing thread does): the original must not move
    RandomMarket more = new RandomMarket(seed ^ 0xc0b1, CLOCK, RandomMarket.Shape.SMALL);
    int nowSlot = CLOCK.slotAtOrAfter(a.now);
    for (int i = 0; i < 8; i++) {
      BidSpec bid = more.bid(nowSlot, 32);
      copy.place(bid.withId(2_000_000 + bid.id()), a.now);
    }
    EpochResult alone = copy.clear(a.now);
    assertArrayEquals(before, a.book.snapshot(), "clearing the copy changed the original");

    // then both take the same inputs and must agree
    OrderBook again = a.book.copy();
    for (int i = 0; i < 8; i++) {
      BidSpec bid =
          new RandomMarket(seed ^ 0xc0b1, CLOCK, RandomMarket.Shape.SMALL).bid(nowSlot, 32);
      BidSpec shifted = bid.withId(3_000_000 + i);
      assertEquals(a.book.place(shifted, a.now), again.place(shifted, a.now));
    }
    assertSameResult(a.book.clear(a.now), again.clear(a.now));
    assertArrayEquals(a.book.snapshot(), again.snapshot());
    assertTrue(alone.epoch() > 0);
  }

  @Property(tries = 30)
  void shouldKeepACopyApartFromEverythingTheOriginalDoesAfterwards(@ForAll long seed) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR);
    a.epoch(2, 12, 32, false);
    a.epoch(1, 6, 32, true);
    int nowSlot = CLOCK.slotAtOrAfter(a.now);
    BidSpec pending = a.market.bid(nowSlot, 32).withId(4_000_000);
    if (a.book.place(pending, a.now) == ResultCode.OK) { // still pending at the cut
      a.placed.put(pending.id(), pending);
    }
    byte[] before = a.book.snapshot();
    assertArrayEquals(before, a.book.snapshot(), "a snapshot changed the book");
    a.book.depth(a.now);
    a.book.windowProfiles(a.now);
    assertArrayEquals(before, a.book.snapshot(), "a read changed the book");
    OrderBook copy = a.book.copy();
    assertArrayEquals(before, copy.snapshot(), "copy().snapshot() differs");

    // the original goes on (bids, cancels, windows, revocations, epochs): the copy must not move
    for (int e = 0; e < 3; e++) {
      a.epoch(1, 8, 32, true);
    }
    assertArrayEquals(before, copy.snapshot(), "the original's changes reached the copy");

    // and the copy still clears as the original did from the cut
    OrderBook reference = OrderBook.restore(before);
    assertSameResult(reference.clear(a.now), copy.clear(a.now));
    assertArrayEquals(reference.snapshot(), copy.snapshot());
  }

  static void assertSameResult(EpochResult x, EpochResult y) {
    assertEquals(x.epoch(), y.epoch());
    assertEquals(x.clearingPrice(), y.clearingPrice());
    assertEquals(x.marginalBidId(), y.marginalBidId());
    assertEquals(x.leases(), y.leases());
    assertArrayEquals(x.expiredBidIds(), y.expiredBidIds());
    assertArrayEquals(x.unfilledIocBidIds(), y.unfilledIocBidIds());
    assertArrayEquals(x.reasonBidIds(), y.reasonBidIds());
    assertArrayEquals(x.reasons(), y.reasons());
    assertArrayEquals(x.reasonCounts(), y.reasonCounts());
    assertEquals(x.openBids(), y.openBids());
  }

  static WindowSpec withWindowId(WindowSpec w, long id) {
    return new WindowSpec(
        id,
        w.provider(),
        w.pool(),
        w.region(),
        w.nodes(),
        w.gpusPerNode(),
        w.startSlot(),
        w.endSlot(),
        w.reservePrice(),
        w.noticeSeconds(),
        w.confidencePpm());
  }
}
