package io.surplus.engine.book;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.Reason;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.whatif.Quote;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Worked examples of a bid steering around unreliable capacity: a minimum confidence, avoided
 * pools, and a requeued bid avoiding the pool that cut it.
 */
class SteeringTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);

  OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);

  /** A 4-node window of pool {@code pool} of provider 1, with {@code confidence} ppm. */
  static WindowSpec window(long id, int pool, int confidence) {
    return new WindowSpec(id, 1, pool, 0, 4, 8, S, S + 16, 1_000_000, 1800, confidence);
  }

  static BidSpec bid(long id, int minConf, List<Integer> avoid, boolean requeue) {
    BidSpec b = BidSpec.gtc(id, 100 + id, 4, 4, 8, S, S + 16, 2_000_000);
    return new BidSpec(
            b.id(),
            b.account(),
            b.nodes(),
            b.minNodes(),
            b.durationSlots(),
            b.earliestStart(),
            b.latestEnd(),
            b.limitPrice(),
            0,
            BidSpec.ANY_REGION,
            b.timeInForce(),
            b.expiresAtMillis(),
            requeue,
            0,
            List.of(),
            false)
        .withSteering(minConf, avoid, true);
  }

  @Test
  void shouldLeaveABidOpenWithBelowMinConfidenceWhenEveryWindowIsLessSure() {
    book.offer(window(1, 1, 900_000), NOW);
    book.offer(window(2, 2, 950_000), NOW);
    book.place(bid(1, 960_000, List.of(), false), NOW);
    EpochResult r = book.clear(NOW);
    assertTrue(r.leases().isEmpty());
    assertEquals(Reason.BELOW_MIN_CONFIDENCE, book.reason(1));
    assertEquals(1, r.reasonCount(Reason.BELOW_MIN_CONFIDENCE));
  }

  @Test
  void shouldFillInTheOneWindowSureEnough() {
    book.offer(window(1, 1, 900_000), NOW);
    book.offer(window(2, 2, 960_000), NOW);
    book.place(bid(1, 960_000, List.of(), false), NOW);
    Lease l = book.clear(NOW).leases().get(0);
    assertEquals(2, l.windowId()); // exactly the minimum is enough
  }

  @Test
  void shouldFillInAnotherPoolWhenItAvoidsOne() {
    WindowSpec a = window(1, 1, 950_000);
    WindowSpec b = window(2, 2, 950_000);
    book.offer(a, NOW);
    book.offer(b, NOW);
    book.place(bid(1, 0, List.of(a.poolKey()), false), NOW); // window 1 is the lower id
    Lease l = book.clear(NOW).leases().get(0);
    assertEquals(2, l.windowId());
  }

  @Test
  void shouldSayAvoidedPoolWhenEveryWindowIsInAPoolItAvoids() {
    WindowSpec a = window(1, 1, 950_000);
    WindowSpec b = window(2, 2, 990_000);
    book.offer(a, NOW);
    book.offer(b, NOW);
    book.place(bid(1, 0, List.of(a.poolKey(), b.poolKey()), false), NOW);
    // the pool is checked before the confidence: a bid told to look elsewhere first
    book.place(bid(2, 999_000, List.of(b.poolKey()), false), NOW);
    book.clear(NOW);
    assertEquals(Reason.AVOIDED_POOL, book.reason(1));
    assertEquals(Reason.BELOW_MIN_CONFIDENCE, book.reason(2));
  }

  @Test
  void shouldRequeueAvoidingThePoolThatCutItUnlessTheBidSaysOtherwise() {
    WindowSpec a = window(1, 1, 950_000);
    book.offer(a, NOW);
    book.offer(window(2, 1, 950_000), NOW); // the same pool
    book.place(bid(1, 0, List.of(), true), NOW);
    book.place(bid(2, 0, List.of(), true).withSteering(0, List.of(), false), NOW);
    assertEquals(2, book.clear(NOW).leases().size());
    long at = NOW + 60_000;
    for (long w = 1; w <= 2; w++) {
      assertTrue(book.revoke(w, 0, at, RevocationKind.EMERGENCY, at).cuts().get(0).requeued());
    }
    assertEquals(List.of(a.poolKey()), book.bid(1).avoidPools());
    assertEquals(List.of(), book.bid(2).avoidPools());
    // the pool that cut both offers again, and another provider's pool
    book.offer(window(3, 1, 950_000), at);
    WindowSpec other = new WindowSpec(4, 2, 1, 0, 4, 8, S, S + 16, 1_000_000, 1800, 950_000);
    assertTrue(other.poolKey() != a.poolKey());
    book.offer(other, at);
    EpochResult again = book.clear(at);
    assertEquals(2, again.leases().size());
    for (Lease l : again.leases()) {
      assertEquals(l.bidId() == 1 ? 4 : 3, l.windowId());
    }
  }

  @Test
  void shouldKeepSteeringThroughSnapshotAndCopy() {
    WindowSpec a = window(1, 1, 900_000);
    book.offer(a, NOW);
    book.place(bid(1, 970_000, List.of(a.poolKey(), 7, 12_345), true), NOW);
    book.place(bid(2, 0, List.of(), true), NOW);
    book.clear(NOW);
    byte[] image = book.snapshot();
    OrderBook restored = OrderBook.restore(image);
    assertEquals(book.bid(1), restored.bid(1));
    assertEquals(book.bid(2), restored.bid(2));
    assertArrayEquals(image, restored.snapshot());
    assertArrayEquals(image, book.copy().snapshot());
    assertEquals(Reason.AVOIDED_POOL, restored.reason(1));
  }

  @Test
  void shouldQuoteTheNewReason() {
    book.offer(window(1, 1, 900_000), NOW);
    Quote.Result q = Quote.of(book, bid(1, 950_000, List.of(), false), NOW);
    assertEquals(Reason.BELOW_MIN_CONFIDENCE, q.reason());
  }

  @Test
  void shouldRejectImpossibleSteering() {
    BidSpec b = bid(1, 0, List.of(), false);
    assertThrows(IllegalArgumentException.class, () -> b.withSteering(1_000_001, List.of(), true));
    assertThrows(IllegalArgumentException.class, () -> b.withSteering(-1, List.of(), true));
    assertThrows(IllegalArgumentException.class, () -> b.withSteering(0, List.of(3, 3), true));
    assertThrows(IllegalArgumentException.class, () -> b.withSteering(0, List.of(-1), true));
    assertThrows(
        IllegalArgumentException.class,
        () -> b.withSteering(0, java.util.stream.IntStream.range(0, 17).boxed().toList(), true));
    assertEquals(List.of(2, 5, 9), b.withSteering(0, List.of(9, 2, 5), true).avoidPools());
    BidSpec full =
        b.withSteering(0, java.util.stream.IntStream.range(0, 16).boxed().toList(), true);
    assertEquals(full, full.withAvoidedPool(99));
  }
}
