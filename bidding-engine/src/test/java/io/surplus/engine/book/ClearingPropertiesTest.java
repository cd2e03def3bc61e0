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
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * The invariants of DESIGN.md's "The mechanism", on random markets over several epochs, with the
 * repair pass off and on; and what the pass promises on top: no bid the greedy filled loses its
 * fill or its nodes, no lease of an earlier epoch moves, and welfare never falls.
 */
class ClearingPropertiesTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final int START_SLOT = CLOCK.slotAtOrAfter(Instant.parse("2026-11-02T00:00:00Z"));
  static final long SLOT_MILLIS = CLOCK.slotSeconds() * 1000L;

  /**
   * An empty book clearing by {@code rule} with {@code pass}: 0 the greedy alone, 1 with the repair
   * pass, 2 with the pass and its re-pack phase.
   */
  static OrderBook book(PricingRule rule, int pass) {
    return new OrderBook(CLOCK, rule, pass >= 1, pass == 2, 1024);
  }

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

    /** Whether bids set a minimum confidence, avoided pools and the requeue rule at random. */
    final boolean steer;

    Run(long seed, RandomMarket.Shape shape, PricingRule rule) {
      this(seed, shape, rule, 0);
    }

    Run(long seed, RandomMarket.Shape shape, PricingRule rule, int pass) {
      this(seed, shape, rule, pass, false);
    }

    /** {@code pass} as in {@link #book}. */
    Run(long seed, RandomMarket.Shape shape, PricingRule rule, int pass, boolean steer) {
      this.book = book(rule, pass);
      this.market = new RandomMarket(seed, CLOCK, shape);
      this.steer = steer;
    }

    /** The market's next bid, steered at random when this run steers. */
    BidSpec bid(RandomMarket m, int nowSlot, int span) {
      BidSpec b = m.bid(nowSlot, span);
      return steer ? steered(b, m.random(), windows.values()) : b;
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
        BidSpec b = bid(market, nowSlot, span);
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
              BidSpec before = placed.get(again.id());
              if (before != null && before.requeueAvoidsPool()) {
                assertTrue(
                    again.avoidPools().contains(w.poolKey())
                        || again.avoidPools().size() == BidSpec.MAX_AVOID_POOLS,
                    "a requeued bid does not avoid the pool that cut it: " + again);
              }
              if (before != null) {
                assertTrue(
                    again.avoidPools().containsAll(before.avoidPools()),
                    "a requeued bid forgot a pool it avoids: " + again);
                assertEquals(before.minConfidencePpm(), again.minConfidencePpm());
              }
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
        assertTrue(w.confidencePpm() >= b.minConfidencePpm(), "below min confidence: " + l);
        assertFalse(b.avoidPools().contains(w.poolKey()), "in an avoided pool: " + l);
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
            || (b.regionMask() & (1L << w.region())) == 0
            || !b.accepts(w)) {
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
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 1) int pricing,
      @ForAll @IntRange(max = 2) int pass,
      @ForAll boolean steer) {
    Run run = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.values()[pricing], pass, steer);
    for (int e = 0; e < 6; e++) {
      run.epoch(2, 12, 32, e % 2 == 1);
    }
  }

  @Property(tries = 15)
  void shouldHoldEveryInvariantOnLargerMarkets(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass, @ForAll boolean steer) {
    Run run = new Run(seed, RandomMarket.Shape.DEFAULT, PricingRule.PAY_AS_CLEAR, pass, steer);
    for (int e = 0; e < 4; e++) {
      run.epoch(8, 150, 96, e == 2);
    }
  }

  /**
   * Steered bids walk the windows while the others use the slot index and the memo of infeasible
   * starts; a steered bid must neither teach the memo nor be answered by the index, so the
   * invariants hold with the index forced on.
   */
  @Property(tries = 20)
  void shouldHoldEveryInvariantWithSteeredBidsAndTheSlotIndex(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass) {
    OrderBook.slotIndexMinPairs = 0;
    try {
      Run run = new Run(seed, RandomMarket.Shape.DEFAULT, PricingRule.PAY_AS_CLEAR, pass, true);
      for (int e = 0; e < 4; e++) {
        run.epoch(8, 150, 96, e == 2);
      }
    } finally {
      OrderBook.slotIndexMinPairs = OrderBook.SLOT_INDEX_MIN_PAIRS;
    }
  }

  /** A window below a bid's minimum confidence or in a pool it avoids never holds it. */
  @Property(tries = 100)
  void shouldNeverFillInAWindowBelowMinConfidenceOrInAnAvoidedPool(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass) {
    Run run = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass, true);
    for (int e = 0; e < 5; e++) {
      run.epoch(3, 12, 24, e % 2 == 1);
    }
    // a bid barred from every window it could otherwise use is told why
    for (BidSpec b : run.placed.values()) {
      io.surplus.engine.Reason why = run.book.reason(b.id());
      if (why == io.surplus.engine.Reason.AVOIDED_POOL
          || why == io.surplus.engine.Reason.BELOW_MIN_CONFIDENCE) {
        assertTrue(b.steered(), "a bid that steers nothing is told " + why + ": " + b);
      }
    }
  }

  @Property(tries = 40)
  void shouldChargeOneUniformPriceUnderPayAsClear(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass) {
    Run run = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass);
    run.epoch(3, 20, 32, false);
    EpochResult r = run.results.get(0);
    for (Lease l : r.leases()) {
      long reserve = run.windows.get(l.windowId()).reservePrice();
      assertEquals(Math.max(r.clearingPrice(), reserve), l.price());
      assertTrue(r.clearingPrice() <= l.limitPrice());
    }
  }

  @Property(tries = 30)
  void shouldGiveIdenticalOutputForIdenticalInputs(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass);
    Run b = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass);
    for (int e = 0; e < 5; e++) {
      a.epoch(2, 10, 32, e == 3);
      b.epoch(2, 10, 32, e == 3);
      assertSameResult(a.results.get(e), b.results.get(e));
      assertArrayEquals(a.book.snapshot(), b.book.snapshot());
    }
  }

  @Property(tries = 30)
  void shouldBehaveIdenticallyAfterSnapshotAndRestore(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass, @ForAll boolean steer) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass, steer);
    a.epoch(2, 12, 32, false);
    a.epoch(1, 6, 32, true);
    byte[] image = a.book.snapshot();
    OrderBook restored = OrderBook.restore(image);
    assertEquals(pass >= 1, restored.repair());
    assertEquals(pass == 2, restored.repack());
    assertArrayEquals(image, restored.snapshot(), "restore(snapshot()).snapshot() differs");

    // drive the original and the restored book with the same further inputs
    RandomMarket more = new RandomMarket(seed ^ 0x5eed, CLOCK, RandomMarket.Shape.SMALL);
    long now = a.now;
    for (int e = 0; e < 3; e++) {
      int nowSlot = CLOCK.slotAtOrAfter(now);
      for (int i = 0; i < 8; i++) {
        BidSpec bid = a.bid(more, nowSlot, 32);
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
  void shouldBehaveIdenticallyAfterCopyAndNeverShareState(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass, @ForAll boolean steer) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass, steer);
    a.epoch(2, 12, 32, false);
    a.epoch(1, 6, 32, true);
    byte[] before = a.book.snapshot();
    OrderBook copy = a.book.copy();
    assertArrayEquals(before, copy.snapshot(), "copy().snapshot() differs");

    // the copy clears alone (as a market's clearing thread does): the original must not move
    RandomMarket more = new RandomMarket(seed ^ 0xc0b1, CLOCK, RandomMarket.Shape.SMALL);
    int nowSlot = CLOCK.slotAtOrAfter(a.now);
    for (int i = 0; i < 8; i++) {
      BidSpec bid = a.bid(more, nowSlot, 32);
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

  /**
   * A market clears a copy of its book each epoch and keeps the book that copy replaced as the next
   * epoch's spare ({@link OrderBook#copyInto}). Epoch after epoch, with the book growing and
   * shrinking (so the spare is sometimes larger than the book, sometimes smaller), windows offered,
   * extended, revoked and ended, through the slot index or the window walk, the recycled copies
   * clear exactly as one book cleared in place, which is what replay does: the same leases, reasons
   * and snapshot, and nothing of a spare's past leaks.
   */
  @Property(tries = 40)
  void shouldClearARecycledCopyExactlyAsTheBookInPlace(
      @ForAll long seed,
      @ForAll @IntRange(max = 2) int pass,
      @ForAll boolean steer,
      @ForAll boolean indexed) {
    RandomMarket m = new RandomMarket(seed, CLOCK, RandomMarket.Shape.SMALL);
    OrderBook inPlace = book(PricingRule.PAY_AS_CLEAR, pass);
    OrderBook book = book(PricingRule.PAY_AS_CLEAR, pass);
    OrderBook spare = null;
    Map<Long, WindowSpec> windows = new HashMap<>();
    List<Long> ids = new ArrayList<>();
    long now = CLOCK.startMillis(START_SLOT);
    int recycled = 0;
    if (indexed) {
      OrderBook.slotIndexMinPairs = 0;
    }
    try {
      for (int e = 0; e < 16; e++) {
        int nowSlot = CLOCK.slotAtOrAfter(now);
        for (int i = 0; i < 1 + m.random().nextInt(3); i++) {
          WindowSpec w = m.window(nowSlot, 32);
          ResultCode rc = inPlace.offer(w, now);
          assertEquals(rc, book.offer(w, now));
          if (rc == ResultCode.OK) {
            windows.put(w.id(), w);
          }
        }
        int newBids = e % 4 == 0 ? 60 : m.random().nextInt(8);
        for (int i = 0; i < newBids; i++) {
          BidSpec b = m.bid(nowSlot, 32);
          b = steer ? steered(b, m.random(), windows.values()) : b;
          ResultCode rc = inPlace.place(b, now);
          assertEquals(rc, book.place(b, now));
          if (rc == ResultCode.OK) {
            ids.add(b.id());
          }
        }
        int cancelOneIn = e % 4 == 2 ? 2 : 12; // now and then most of the book goes at once
        for (Long id : List.copyOf(ids)) {
          if (m.random().nextInt(cancelOneIn) == 0) {
            assertEquals(inPlace.cancel(id), book.cancel(id));
            ids.remove(id);
          } else if (m.random().nextInt(16) == 0 && inPlace.bid(id) != null) {
            BidSpec open = inPlace.bid(id);
            int nodes = 1 + m.random().nextInt(open.nodes());
            long limit = Math.max(1, open.limitPrice() + m.random().nextLong(-200_000, 200_000));
            assertEquals(
                inPlace.amend(id, nodes, limit, open.expiresAtMillis()),
                book.amend(id, nodes, limit, open.expiresAtMillis()));
          }
        }
        if (e % 3 == 0 && !windows.isEmpty()) { // a window's end moves later (its arrays grow)
          List<Long> wids = new ArrayList<>(windows.keySet());
          wids.sort(null);
          long wid = wids.get(m.random().nextInt(wids.size()));
          if (inPlace.window(wid) != null) {
            int newEnd = inPlace.windowEnd(wid) + 1 + m.random().nextInt(4);
            assertEquals(inPlace.extend(wid, newEnd, now), book.extend(wid, newEnd, now));
          }
        }
        if (e % 3 == 1 && !windows.isEmpty()) {
          List<Long> wids = new ArrayList<>(windows.keySet());
          wids.sort(null);
          long wid = wids.get(m.random().nextInt(wids.size()));
          if (inPlace.window(wid) != null) {
            int keep = m.random().nextInt(windows.get(wid).nodes());
            long from = now + m.random().nextLong(0, 8 * SLOT_MILLIS);
            assertEquals(
                inPlace.revoke(wid, keep, from, RevocationKind.EMERGENCY, now).cuts(),
                book.revoke(wid, keep, from, RevocationKind.EMERGENCY, now).cuts());
          }
        }
        byte[] before = book.snapshot();
        OrderBook copy = book.copyInto(spare);
        recycled += copy == spare ? 1 : 0;
        assertArrayEquals(before, copy.snapshot(), "epoch " + e + ": the copy differs");
        EpochResult expected = inPlace.clear(now);
        EpochResult got = copy.clear(now);
        assertSameResult(expected, got);
        assertArrayEquals(before, book.snapshot(), "epoch " + e + ": clearing the copy moved it");
        assertArrayEquals(inPlace.snapshot(), copy.snapshot(), "epoch " + e);
        spare = book;
        book = copy;
        // a market clears many epochs within one slot (cached runs stay keyed to it) and moves on
        now += e % 4 == 3 ? SLOT_MILLIS : 1000;
      }
    } finally {
      OrderBook.slotIndexMinPairs = OrderBook.SLOT_INDEX_MIN_PAIRS;
    }
    assertEquals(15, recycled, "every epoch after the first clears a recycled copy");
  }

  /**
   * The depth's demand, kept per price level as bids are placed, amended, cancelled, filled,
   * expired and requeued, reads the same as one grouped from the open bids themselves, in the book,
   * its copy and the book restored from its snapshot.
   */
  @Property(tries = 40)
  void shouldKeepDemandLevelsEqualToTheOpenBidsGrouped(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass);
    for (int e = 0; e < 6; e++) {
      for (Long id : List.copyOf(a.placed.keySet())) {
        BidSpec open = a.book.bid(id);
        if (open != null && a.market.random().nextInt(4) == 0) {
          int nodes = 1 + a.market.random().nextInt(open.nodes());
          long limit = open.limitPrice() + a.market.random().nextLong(-200_000, 200_000);
          if (a.book.amend(id, nodes, Math.max(1, limit), open.expiresAtMillis())
              == ResultCode.OK) {
            a.placed.put(id, a.book.bid(id));
          }
        }
      }
      a.epoch(2, 12, 32, e % 2 == 1);
      TreeMap<Long, long[]> grouped = new TreeMap<>(Comparator.reverseOrder());
      for (Long id : a.placed.keySet()) {
        BidSpec open = a.book.bid(id);
        if (open != null) {
          long[] level = grouped.computeIfAbsent(open.limitPrice(), k -> new long[2]);
          level[0]++;
          level[1] += open.nodes();
        }
      }
      List<Depth.BidLevel> expected = new ArrayList<>();
      grouped.forEach((p, l) -> expected.add(new Depth.BidLevel(p, (int) l[0], l[1])));
      assertEquals(expected, a.book.depth(a.now).bids(), "epoch " + e);
      assertEquals(expected, a.book.copy().depth(a.now).bids(), "copy, epoch " + e);
      assertEquals(
          expected,
          OrderBook.restore(a.book.snapshot()).depth(a.now).bids(),
          "restored, epoch " + e);
    }
  }

  @Property(tries = 30)
  void shouldKeepACopyApartFromEverythingTheOriginalDoesAfterwards(
      @ForAll long seed, @ForAll @IntRange(max = 2) int pass) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, pass);
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

  /**
   * The same book at an epoch's cut, cleared greedily and with the repair pass: every bid the
   * greedy filled keeps a lease with the same id, nodes and duration; no lease of an earlier epoch
   * moves; the pass only adds fills, so welfare (limit x GPU-slots) never falls; what it reports
   * adding is what it added.
   */
  @Property(tries = 200)
  void shouldKeepEveryGreedyFillAndNeverLowerWelfare(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 3) int earlierEpochs,
      @ForAll @IntRange(min = 1, max = 4) int windows,
      @ForAll @IntRange(min = 2, max = 40) int bids,
      @ForAll @IntRange(min = 8, max = 48) int span) {
    Run a = new Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR, 1);
    for (int e = 0; e < earlierEpochs; e++) {
      a.epoch(windows, bids, span, e % 2 == 1);
    }
    int nowSlot = CLOCK.slotAtOrAfter(a.now);
    for (int i = 0; i < windows; i++) {
      a.book.offer(a.market.window(nowSlot, span), a.now);
    }
    for (int i = 0; i < bids; i++) {
      a.book.place(a.market.bid(nowSlot, span), a.now);
    }
    OrderBook greedy = a.book.copy(false);
    OrderBook repaired = a.book.copy(true);
    EpochResult g = greedy.clear(a.now);
    EpochResult r = repaired.clear(a.now);
    for (Lease l : r.leases()) {
      assertEquals(r.epoch(), l.epoch());
    }
    assertKeepsEveryFill(g, r, "the pass");
    Statistics.label("pass")
        .collect(r.repairMoves() > 0 ? "moved leases" : r.repairFills() > 0 ? "filled" : "none");
    assertEquals(g.leases().size() + r.repairFills(), r.leases().size());
    assertEquals(0, g.repairFills());
    // every bid ends the epoch filled, open, or (IOC) closed unfilled: the pass only moves some
    // from the last two to the first
    assertEquals(
        g.leases().size() + g.openBids() + g.unfilledIocBidIds().length,
        r.leases().size() + r.openBids() + r.unfilledIocBidIds().length);
    assertArrayEquals(g.expiredBidIds(), r.expiredBidIds());
    assertEquals(g.searched(), r.searched());
    // the pass must have had work to do in a fair share of the tries, or this proves little
    Statistics.label("pass").coverage(c -> c.check("moved leases").percentage(p -> p >= 5));
    for (WindowSpec w : a.windows.values()) {
      List<Lease> before = new ArrayList<>();
      List<Lease> after = new ArrayList<>();
      greedy.leasesOf(w.id()).stream().filter(l -> l.epoch() < g.epoch()).forEach(before::add);
      repaired.leasesOf(w.id()).stream().filter(l -> l.epoch() < r.epoch()).forEach(after::add);
      assertEquals(before, after, "a lease of an earlier epoch changed on window " + w.id());
    }
  }

  /**
   * The same book at an epoch's cut, cleared with the repair pass and with its re-pack phase too:
   * the phase keeps every lease the pass made (same id, bid, nodes and duration), never touches a
   * lease of an earlier epoch, only adds fills, so welfare never falls below the pass's, and an
   * arrangement it keeps admits at least one bid.
   */
  @Property(tries = 200)
  void shouldKeepEveryFillOfThePassWhenRepacking(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 2) int earlierEpochs,
      @ForAll @IntRange(min = 2, max = 8) int windows,
      @ForAll @IntRange(min = 40, max = 160) int bids,
      @ForAll boolean steer) {
    RandomMarket.Shape medium = new RandomMarket.Shape(16, 8, 8, 2, 0.3, 0.1, 0.1);
    Run a = new Run(seed, medium, PricingRule.PAY_AS_CLEAR, 1, steer);
    int span = 24;
    for (int e = 0; e < earlierEpochs; e++) {
      a.epoch(windows, bids / 2, span, e % 2 == 1);
    }
    int nowSlot = CLOCK.slotAtOrAfter(a.now);
    for (int i = 0; i < windows; i++) {
      WindowSpec w = a.market.window(nowSlot, span);
      if (a.book.offer(w, a.now) == ResultCode.OK) {
        a.windows.put(w.id(), w);
      }
    }
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    for (int i = 0; i < bids; i++) {
      BidSpec b = a.market.bid(nowSlot, span);
      a.book.place(steer ? steered(b, r, a.windows.values()) : b, a.now);
    }
    OrderBook repaired = a.book.copy(true, false);
    OrderBook repacked = a.book.copy(true, true);
    EpochResult p = repaired.clear(a.now);
    EpochResult q = repacked.clear(a.now);
    assertKeepsEveryFill(p, q, "the re-pack");
    assertTrue(q.repairFills() >= p.repairFills());
    assertTrue(
        q.leases().size() == p.leases().size() || q.repairMoves() > p.repairMoves(),
        "fills were added but nothing was re-packed");
    Statistics.label("re-pack")
        .collect(q.leases().size() > p.leases().size() ? "added fills" : "none");
    Statistics.label("re-pack").coverage(c -> c.check("added fills").percentage(x -> x >= 3));
    for (WindowSpec w : a.windows.values()) {
      assertEquals(
          repaired.leasesOf(w.id()).stream().filter(l -> l.epoch() < p.epoch()).toList(),
          repacked.leasesOf(w.id()).stream().filter(l -> l.epoch() < q.epoch()).toList(),
          "a lease of an earlier epoch changed on window " + w.id());
    }
  }

  /**
   * Every lease of {@code before} has one in {@code after} for its bid, with the same id, nodes,
   * duration and GPUs per node; no bid has two; and welfare (limit x GPU-slots) did not fall.
   */
  static void assertKeepsEveryFill(EpochResult before, EpochResult after, String by) {
    Map<Long, Lease> byBid = new HashMap<>();
    long wa = 0;
    for (Lease l : after.leases()) {
      assertTrue(byBid.put(l.bidId(), l) == null, "two leases for bid " + l.bidId());
      wa += l.limitPrice() * l.gpuSlots();
    }
    long wb = 0;
    for (Lease l : before.leases()) {
      Lease kept = byBid.get(l.bidId());
      assertTrue(kept != null, by + " dropped a fill: " + l);
      assertEquals(l.id(), kept.id());
      assertEquals(l.nodes(), kept.nodes(), by + " shrank a fill: " + l);
      assertEquals(l.endSlot() - l.startSlot(), kept.endSlot() - kept.startSlot());
      assertEquals(l.gpusPerNode(), kept.gpusPerNode());
      wb += l.limitPrice() * l.gpuSlots();
    }
    assertTrue(wa >= wb, by + " lowered welfare: " + wb + " -> " + wa);
  }

  /**
   * {@code b} with, at random, a minimum confidence around the windows' (0.90-1.00), up to three
   * avoided pools (mostly of windows offered, sometimes any key) and the requeue rule.
   */
  static BidSpec steered(BidSpec b, java.util.SplittableRandom r, Iterable<WindowSpec> windows) {
    int[] confidences = {0, 0, 920_000, 960_000, 990_000};
    int minConf = confidences[r.nextInt(confidences.length)];
    List<Integer> keys = new ArrayList<>();
    for (WindowSpec w : windows) {
      if (!keys.contains(w.poolKey())) {
        keys.add(w.poolKey());
      }
    }
    keys.sort(null);
    Set<Integer> avoid = new java.util.TreeSet<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      avoid.add(
          keys.isEmpty() || r.nextInt(5) == 0
              ? r.nextInt(WindowSpec.MAX_POOL_KEY + 1)
              : keys.get(r.nextInt(keys.size())));
    }
    return b.withSteering(minConf, List.copyOf(avoid), r.nextBoolean());
  }

  static void assertSameResult(EpochResult x, EpochResult y) {
    assertEquals(x.epoch(), y.epoch());
    assertEquals(x.leases(), y.leases());
    assertSameOutcome(x, y);
    assertEquals(x.repairFills(), y.repairFills());
    assertEquals(x.repairMoves(), y.repairMoves());
  }

  /**
   * Asserts that two epochs settled their bids alike: the same clearing price and marginal bid, the
   * same bids expired, IOC bids left unfilled, reasons and counts, and open bids. The epoch number,
   * the leases and the work counts are the caller's to compare.
   */
  static void assertSameOutcome(EpochResult x, EpochResult y) {
    assertEquals(x.clearingPrice(), y.clearingPrice());
    assertEquals(x.marginalBidId(), y.marginalBidId());
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
