package io.surplus.engine.book;

import static io.surplus.engine.book.ClearingPropertiesTest.CLOCK;
import static io.surplus.engine.book.ClearingPropertiesTest.SLOT_MILLIS;
import static io.surplus.engine.book.ClearingPropertiesTest.assertSameOutcome;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.whatif.RandomMarket;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link OrderBook#hasWork}: false only when an epoch would change nothing, and skipping it is
 * safe.
 */
class HasWorkPropertiesTest {

  /** Byte offset of the epoch counter in a snapshot, and the size of one bid record in it. */
  private static final int EPOCH_AT = 4 + 4 + 4 + 1 + 8 + 8;

  private static final int BIDS_AT = EPOCH_AT + 8 + 4 + 4;
  private static final int BID_BYTES = 8 + 8 + 4 + 4 + 4 + 4 + 4 + 8 + 4 + 8 + 1 + 8 + 8 + 1 + 8;

  @Property(tries = 60)
  void shouldChangeNothingWhenThereIsNoWork(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 1) int shape) {
    RandomMarket.Shape sh = shape == 0 ? RandomMarket.Shape.SMALL : RandomMarket.Shape.DEFAULT;
    ClearingPropertiesTest.Run run =
        new ClearingPropertiesTest.Run(seed, sh, PricingRule.PAY_AS_CLEAR);
    int idle = 0;
    for (int e = 0; e < 5; e++) {
      run.epoch(2, shape == 0 ? 12 : 60, 32, e % 2 == 1);
      EpochResult last = run.results.get(run.results.size() - 1);
      long t = CLOCK.startMillis(last.nowSlot()); // the same slot as that epoch
      if (run.book.hasWork(t)) {
        continue;
      }
      idle++;
      byte[] before = run.book.snapshot();
      OrderBook copy = run.book.copy();
      EpochResult r = copy.clear(t);
      assertTrue(r.leases().isEmpty());
      assertEquals(0, r.clearingPrice());
      assertEquals(-1, r.marginalBidId());
      assertEquals(0, r.expiredBidIds().length);
      assertEquals(0, r.unfilledIocBidIds().length);
      assertEquals(0, r.reasonBidIds().length);
      // the last epoch's counts include the IOC bids it closed; none is open now
      int[] open = last.reasonCounts().clone();
      for (long ioc : last.unfilledIocBidIds()) {
        for (int i = 0; i < last.reasonBidIds().length; i++) {
          if (last.reasonBidIds()[i] == ioc) {
            open[last.reasons()[i]]--;
          }
        }
      }
      assertArrayEquals(open, r.reasonCounts());
      assertEquals(last.openBids(), r.openBids());
      assertEquals(0, r.searched());
      assertSameApartFromEpochs(before, run.book.epoch(), copy.snapshot(), copy.epoch());
      // and nothing asks for another epoch either
      assertFalse(copy.hasWork(t));
    }
    IDLE.addAndGet(idle);
  }

  private static final java.util.concurrent.atomic.AtomicInteger IDLE =
      new java.util.concurrent.atomic.AtomicInteger();

  @org.junit.jupiter.api.AfterAll
  static void idleEpochsWereChecked() {
    assertTrue(IDLE.get() > 0, "no idle epoch was generated: the property checked nothing");
  }

  @Property(tries = 60)
  void shouldGiveTheSameLaterResultsWhetherAnIdleEpochRanOrWasSkipped(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 1) int shape) {
    RandomMarket.Shape sh = shape == 0 ? RandomMarket.Shape.SMALL : RandomMarket.Shape.DEFAULT;
    ClearingPropertiesTest.Run run =
        new ClearingPropertiesTest.Run(seed, sh, PricingRule.PAY_AS_CLEAR);
    run.epoch(2, shape == 0 ? 12 : 60, 32, false);
    run.epoch(1, shape == 0 ? 6 : 30, 32, true);
    EpochResult last = run.results.get(run.results.size() - 1);
    long t1 = CLOCK.startMillis(last.nowSlot());
    if (run.book.hasWork(t1)) {
      return; // a bid may expire in this slot: nothing to compare
    }
    OrderBook ran = run.book.copy();
    OrderBook skipped = run.book.copy();
    ran.clear(t1);

    RandomMarket more = new RandomMarket(seed ^ 0x1d1e, CLOCK, sh);
    long now = t1 + more.random().nextLong(0, 3 * SLOT_MILLIS);
    for (int e = 0; e < 3; e++) {
      int nowSlot = CLOCK.slotAtOrAfter(now);
      for (int i = 0; i < 8; i++) {
        BidSpec bid = more.bid(nowSlot, 32).withId(5_000_000 + 100 * e + i);
        assertEquals(ran.place(bid, now), skipped.place(bid, now));
      }
      WindowSpec w = ClearingPropertiesTest.withWindowId(more.window(nowSlot, 32), 5_000_000 + e);
      assertEquals(ran.offer(w, now), skipped.offer(w, now));
      if (e == 1) {
        assertEquals(ran.cancel(5_000_000 + 3), skipped.cancel(5_000_000 + 3));
      }
      assertTrue(ran.hasWork(now) && skipped.hasWork(now));
      EpochResult x = ran.clear(now);
      EpochResult y = skipped.clear(now);
      assertEquals(x.epoch(), y.epoch() + 1, "the skipped book numbers its epochs one lower");
      assertEquals(withoutEpoch(x.leases()), withoutEpoch(y.leases()));
      assertSameOutcome(x, y);
      assertEquals(x.searched(), y.searched());
      assertEquals(x.skipped(), y.skipped());
      assertSameState(ran, skipped, now, run, 5_000_000 + 100 * e + 8);
      now += SLOT_MILLIS + more.random().nextLong(0, 2 * SLOT_MILLIS);
    }
  }

  @Property(tries = 30)
  void shouldAskForAnEpochAfterAnyChange(@ForAll long seed) {
    ClearingPropertiesTest.Run run =
        new ClearingPropertiesTest.Run(seed, RandomMarket.Shape.SMALL, PricingRule.PAY_AS_CLEAR);
    assertTrue(run.book.hasWork(run.now), "a book never cleared has work");
    run.epoch(2, 12, 32, false);
    long t = CLOCK.startMillis(run.results.get(0).nowSlot());
    OrderBook restored = OrderBook.restore(run.book.snapshot());
    assertTrue(restored.hasWork(t), "a restored book is not known idle");
    assertTrue(run.book.hasWork(t + SLOT_MILLIS), "a new slot has work");
    if (!run.book.hasWork(t)) {
      OrderBook copy = run.book.copy();
      assertFalse(copy.hasWork(t), "a copy keeps what the original knows");
      BidSpec bid = run.market.bid(run.results.get(0).nowSlot(), 32).withId(9_000_000);
      if (copy.place(bid, t) == ResultCode.OK) {
        assertTrue(copy.hasWork(t), "a placed bid makes work");
        assertFalse(run.book.hasWork(t), "the copy's change does not reach the original");
      }
    }
  }

  /** Every bid, window, lease (apart from its epoch number) and the depth read the same. */
  private static void assertSameState(
      OrderBook x, OrderBook y, long now, ClearingPropertiesTest.Run run, long lastNewId) {
    assertEquals(x.openBids(), y.openBids());
    assertEquals(x.depth(now), y.depth(now));
    assertEquals(x.windowProfiles(now), y.windowProfiles(now));
    List<Long> windowIds = new ArrayList<>(run.windows.keySet());
    List<Long> bidIds = new ArrayList<>(run.placed.keySet());
    for (long id = 5_000_000; id <= lastNewId; id++) {
      windowIds.add(id);
      bidIds.add(id);
    }
    for (long id : windowIds) {
      assertEquals(withoutEpoch(x.leasesOf(id)), withoutEpoch(y.leasesOf(id)));
    }
    for (long id : bidIds) {
      assertEquals(x.bid(id), y.bid(id));
      assertEquals(x.reason(id), y.reason(id));
    }
  }

  /** The snapshots are equal except for the epoch counter and each open bid's failed epoch. */
  private static void assertSameApartFromEpochs(byte[] a, long epochA, byte[] b, long epochB) {
    assertEquals(a.length, b.length);
    byte[] x = a.clone();
    byte[] y = b.clone();
    assertEquals(epochA, readLong(x, EPOCH_AT));
    assertEquals(epochB, readLong(y, EPOCH_AT));
    writeLong(y, EPOCH_AT, epochA);
    int bids = readInt(x, BIDS_AT - 4);
    for (int i = 0; i < bids; i++) {
      int at = BIDS_AT + i * BID_BYTES + BID_BYTES - 8;
      long fx = readLong(x, at);
      long fy = readLong(y, at);
      if (fx == epochA && fy == epochB) {
        writeLong(y, at, fx);
      }
    }
    assertArrayEquals(x, y);
  }

  private static List<Lease> withoutEpoch(List<Lease> leases) {
    List<Lease> out = new ArrayList<>();
    for (Lease l : leases) {
      out.add(l.withEpoch(0));
    }
    return out;
  }

  private static long readLong(byte[] b, int at) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[at + i] & 0xff);
    }
    return v;
  }

  private static int readInt(byte[] b, int at) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (b[at + i] & 0xff);
    }
    return v;
  }

  private static void writeLong(byte[] b, int at, long v) {
    for (int i = 7; i >= 0; i--) {
      b[at + i] = (byte) v;
      v >>>= 8;
    }
  }
}
