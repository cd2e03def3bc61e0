package io.surplus.engine.book;

import static io.surplus.engine.book.ClearingPropertiesTest.START_SLOT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.surplus.engine.BidSpec;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.whatif.RandomMarket;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Builders;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The clearing invariants over markets that jqwik builds from its own arbitraries, so that a
 * failing market shrinks to a few windows and bids, each with small values, rather than standing as
 * a seed (the seeded properties of {@link ClearingPropertiesTest} cover long runs of epochs and
 * revocations). Every epoch is checked with that test's {@code Run.check}: every lease within its
 * bid's and window's bounds, exact duration, nodes between the bid's minimum and its ask, reserve
 * <= price <= limit, notice, region, no window slot over-allocated, every open bid maximal (it fits
 * nowhere in what is left), no IOC bid left open; then determinism and the snapshot's round trip.
 */
class ShrinkingClearingTest {

  /** A market of one epoch: windows and bids as generated, ids given in order. */
  record Market(List<WindowSpec> windows, List<BidSpec> bids) {}

  /** Slots of the range windows and bids fall in: 12 hours of 15-minute slots. */
  static final int SPAN = 48;

  @Provide
  Arbitrary<Market> markets() {
    Arbitrary<List<WindowSpec>> windows = window().list().ofMinSize(1).ofMaxSize(6);
    Arbitrary<List<BidSpec>> bids = bid().list().ofMinSize(1).ofMaxSize(24);
    return Combinators.combine(windows, bids).as(ShrinkingClearingTest::numbered);
  }

  static Arbitrary<WindowSpec> window() {
    return Builders.withBuilder(() -> new int[6])
        .use(Arbitraries.integers().between(0, SPAN - 2))
        .in((w, start) -> set(w, 0, start))
        .use(Arbitraries.integers().between(1, SPAN))
        .in((w, len) -> set(w, 1, len))
        .use(Arbitraries.integers().between(1, 8))
        .in((w, nodes) -> set(w, 2, nodes))
        .use(Arbitraries.integers().between(0, 150))
        .in((w, reserveCents) -> set(w, 3, reserveCents))
        .use(Arbitraries.integers().between(0, 1))
        .in((w, region) -> set(w, 4, region))
        .use(Arbitraries.of(300, 1800))
        .in((w, notice) -> set(w, 5, notice))
        .build(
            w ->
                new WindowSpec(
                    1, // numbered in the market
                    1,
                    0,
                    w[4],
                    w[2],
                    8,
                    START_SLOT + w[0],
                    START_SLOT + Math.min(SPAN, w[0] + w[1]),
                    1_000_000L + w[3] * 10_000L,
                    w[5],
                    1_000_000));
  }

  static Arbitrary<BidSpec> bid() {
    return Builders.withBuilder(() -> new int[8])
        .use(Arbitraries.integers().between(1, 8))
        .in((b, duration) -> set(b, 0, duration))
        .use(Arbitraries.integers().between(0, SPAN - 1))
        .in((b, earliest) -> set(b, 1, earliest))
        .use(Arbitraries.integers().between(0, SPAN))
        .in((b, slack) -> set(b, 2, slack))
        .use(Arbitraries.integers().between(1, 6))
        .in((b, nodes) -> set(b, 3, nodes))
        .use(Arbitraries.integers().between(0, 5))
        .in((b, fewer) -> set(b, 4, fewer))
        .use(Arbitraries.integers().between(0, 320))
        .in((b, limitCents) -> set(b, 5, limitCents))
        .use(Arbitraries.integers().between(0, 3))
        .in((b, kind) -> set(b, 6, kind))
        .use(Arbitraries.of(0, 1800))
        .in((b, notice) -> set(b, 7, notice))
        .build(
            b -> {
              int es = START_SLOT + Math.min(b[1], SPAN - b[0]);
              int le = Math.min(START_SLOT + SPAN, es + b[0] + b[2]);
              int nodes = b[3];
              return new BidSpec(
                  1, // numbered in the market
                  1 + b[6],
                  nodes,
                  Math.max(1, nodes - b[4]),
                  b[0],
                  es,
                  le,
                  800_000L + b[5] * 10_000L,
                  b[7],
                  b[6] == 1 ? 1L : BidSpec.ANY_REGION,
                  b[6] == 2 ? TimeInForce.IOC : TimeInForce.GTC,
                  BidSpec.NO_EXPIRY,
                  b[6] == 3,
                  0,
                  List.of(),
                  false);
            });
  }

  private static int[] set(int[] a, int i, int v) {
    a[i] = v;
    return a;
  }

  /** Ids in order (1, 2, ...), as a market gives them. */
  static Market numbered(List<WindowSpec> windows, List<BidSpec> bids) {
    List<WindowSpec> ws = new ArrayList<>();
    for (int i = 0; i < windows.size(); i++) {
      ws.add(ClearingPropertiesTest.withWindowId(windows.get(i), i + 1));
    }
    List<BidSpec> bs = new ArrayList<>();
    for (int i = 0; i < bids.size(); i++) {
      bs.add(bids.get(i).withIdAndAccount(i + 1, bids.get(i).account()));
    }
    return new Market(ws, bs);
  }

  @Property(tries = 300)
  void shouldClearEveryMarketWithinTheRules(
      @ForAll("markets") Market m, @ForAll @IntRange(max = 2) int pass, @ForAll boolean payAsBid) {
    PricingRule rule = payAsBid ? PricingRule.PAY_AS_BID : PricingRule.PAY_AS_CLEAR;
    ClearingPropertiesTest.Run run =
        new ClearingPropertiesTest.Run(0, RandomMarket.Shape.SMALL, rule, pass);
    for (WindowSpec w : m.windows()) {
      if (run.book.offer(w, run.now) == ResultCode.OK) {
        run.windows.put(w.id(), w);
      }
    }
    for (BidSpec b : m.bids()) {
      if (run.book.place(b, run.now) == ResultCode.OK) {
        run.placed.put(b.id(), b);
      }
    }
    OrderBook again = run.book.copy();
    byte[] before = run.book.snapshot();
    EpochResult r = run.book.clear(run.now);
    run.check(r);
    // determinism: the same book clears the same, and a book restored from its snapshot too
    EpochResult same = again.clear(run.now);
    assertEquals(r.leases(), same.leases());
    assertEquals(r.clearingPrice(), same.clearingPrice());
    OrderBook restored = OrderBook.restore(before);
    assertEquals(r.leases(), restored.clear(run.now).leases());
    assertArrayEquals(run.book.snapshot(), again.snapshot());
  }
}
