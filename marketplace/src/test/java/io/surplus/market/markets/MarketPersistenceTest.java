package io.surplus.market.markets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.surplus.engine.BidSpec;
import io.surplus.engine.GpuModel;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.market.cassandra.TestCassandra;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A market journaled to the real Cassandra node comes back identical after a full restart. */
class MarketPersistenceTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);
  static final Duration WAIT = Duration.ofSeconds(60);

  @BeforeAll
  static void cassandra() {
    TestCassandra.node();
  }

  static ActorTestKit testKit() {
    return ActorTestKit.create("market-test", ConfigFactory.load());
  }

  /** The market's book image, once every command before this one is done. */
  static byte[] image(ActorTestKit kit, ActorRef<Market.Command> market) {
    TestProbe<Market.Image> images = kit.createTestProbe();
    market.tell(new Market.GetImage(images.ref()));
    return images.expectMessageClass(Market.Image.class, WAIT).bytes();
  }

  /** Starts a new actor system, recovers the market and checks its book is byte-identical. */
  static void assertRecoversExactly(
      GpuModel model,
      byte[] image,
      java.util.function.BiConsumer<ActorTestKit, ActorRef<Market.Command>> more) {
    ActorTestKit again = testKit();
    try {
      ActorRef<Market.Command> market =
          again.spawn(Market.create(model, CLOCK, PricingRule.PAY_AS_CLEAR));
      TestProbe<Market.Image> images = again.createTestProbe();
      market.tell(new Market.GetImage(images.ref()));
      assertArrayEquals(image, images.expectMessageClass(Market.Image.class, WAIT).bytes());
      more.accept(again, market);
    } finally {
      again.shutdownTestKit();
    }
  }

  /**
   * Places {@code count} bids from id {@code from}, a thousand at a time (commands that arrive
   * while the market writes wait in its stash, which holds a few thousand), each answered OK.
   */
  static void placeMany(
      ActorRef<Market.Command> market, TestProbe<Market.Outcome> outcome, long from, int count) {
    for (long chunk = from; chunk < from + count; chunk += 1000) {
      long end = Math.min(chunk + 1000, from + count);
      for (long id = chunk; id < end; id++) {
        market.tell(
            Market.PlaceBid.of(
                BidSpec.gtc(id, 9, 1, 1, 4, S + 8, S + 40, 900_000 + id), NOW, outcome.ref()));
      }
      for (long id = chunk; id < end; id++) {
        assertEquals(ResultCode.OK, outcome.expectMessageClass(Market.Outcome.class, WAIT).code());
      }
    }
  }

  @Test
  void shouldSnapshotWhenTheJournalSinceTheLastSnapshotIsAsLongAsItsBookAndRecoverFromIt() {
    GpuModel model = new GpuModel("SNAP-" + System.nanoTime());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    byte[] image;
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          kit.spawn(
              Market.create(
                  model,
                  CLOCK,
                  PricingRule.PAY_AS_CLEAR,
                  Duration.ofHours(1), // no epoch inside the test: every event is a bid
                  () -> NOW,
                  new Market.Links(
                      null,
                      null,
                      null,
                      null,
                      null,
                      new MarketMeters(registry, model.name()),
                      null)));
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      placeMany(market, outcome, 1, 3 * Market.SNAPSHOT_EVERY);
      // 30,000 bids, each left open: the first snapshot at event 10,000 holds about 10,000 bids,
      // so the next is due 10,000 events later (20,000, holding about 20,000), and the one after
      // 20,000 later (40,000). Two snapshots where a fixed 10,000-event rule takes three.
      DistributionSummary snapshots = registry.find("surplus.market.snapshot.bids").summary();
      assertEquals(2, snapshots.count());
      // the bids each snapshot held: a market with a timer writes its clearing rule first
      // (ClearingRuleSet), so events 10,000 and 20,000 come after 9,999 and 19,999 bids
      assertEquals(9_999 + 19_999, snapshots.totalAmount());
      image = image(kit, market);
    } finally {
      kit.shutdownTestKit();
    }
    // recovery starts from the snapshot at 20,000 and replays the 10,000 events after it
    assertRecoversExactly(model, image, (again, market) -> {});
  }

  @Test
  void shouldRecoverTheExactBookAfterTheActorSystemRestarts() {
    GpuModel model = new GpuModel("TEST-" + System.nanoTime());
    byte[] image;
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          kit.spawn(Market.create(model, CLOCK, PricingRule.PAY_AS_CLEAR));
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      market.tell(
          new Market.OfferWindow(
              new WindowSpec(1, 1, 0, 0, 4, 8, S, S + 16, 1_000_000, 300, 950_000),
              "pool-a",
              NOW,
              outcome.ref()));
      assertEquals(ResultCode.OK, outcome.expectMessageClass(Market.Outcome.class, WAIT).code());
      for (long id = 1; id <= 4; id++) {
        market.tell(
            Market.PlaceBid.of(
                BidSpec.gtc(id, 7, 2, 2, 8, S, S + 8, 1_000_000 + id * 100_000),
                NOW,
                outcome.ref()));
        assertEquals(ResultCode.OK, outcome.expectMessageClass(Market.Outcome.class, WAIT).code());
      }
      // a rejection persists nothing
      market.tell(
          Market.PlaceBid.of(BidSpec.gtc(1, 7, 2, 2, 4, S, S + 8, 2_000_000), NOW, outcome.ref()));
      assertEquals(
          ResultCode.DUPLICATE_ID, outcome.expectMessageClass(Market.Outcome.class, WAIT).code());

      TestProbe<Market.EpochSummary> epoch = kit.createTestProbe();
      market.tell(new Market.ClearEpoch(NOW, epoch.ref()));
      Market.EpochSummary summary = epoch.expectMessageClass(Market.EpochSummary.class, WAIT);
      assertEquals(2, summary.leases()); // 4 nodes: the two highest bids fill
      assertEquals(1_300_000, summary.clearingPrice());

      market.tell(new Market.CancelBid(2, outcome.ref()));
      assertEquals(ResultCode.OK, outcome.expectMessageClass(Market.Outcome.class, WAIT).code());

      // enough events to pass a snapshot, so recovery starts from it and replays the rest
      placeMany(market, outcome, 100, Market.SNAPSHOT_EVERY);
      market.tell(new Market.ClearEpoch(NOW + 1000, epoch.ref()));
      epoch.expectMessageClass(Market.EpochSummary.class, WAIT);

      image = image(kit, market);
    } finally {
      kit.shutdownTestKit();
    }

    assertRecoversExactly(
        model,
        image,
        (again, market) -> {
          TestProbe<Market.BidSummary> bids = again.createTestProbe();
          market.tell(new Market.GetBid(100, bids.ref()));
          Market.BidSummary open = bids.expectMessageClass(Market.BidSummary.class, WAIT);
          assertTrue(open.open());
          assertEquals(io.surplus.engine.Reason.BELOW_RESERVE, open.reason());
          market.tell(
              new Market.GetBid(1, bids.ref())); // expired: it could no longer start in time
          assertFalse(bids.expectMessageClass(Market.BidSummary.class, WAIT).open());
          market.tell(new Market.GetBid(2, bids.ref())); // cancelled
          assertFalse(bids.expectMessageClass(Market.BidSummary.class, WAIT).open());
        });
  }

  @Test
  void shouldGroupConcurrentBidsIntoFewJournalWritesAndKeepEveryAcknowledgedOne() {
    GpuModel model = new GpuModel("GATE-" + System.nanoTime());
    int n = 500;
    byte[] image;
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          kit.spawn(Market.create(model, CLOCK, PricingRule.PAY_AS_CLEAR));
      ActorRef<MarketGate.Message> gate = kit.spawn(MarketGate.create(market));
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      for (long id = 1; id <= n; id++) {
        gate.tell(
            new MarketGate.Place(
                Market.PlaceBid.of(
                    BidSpec.gtc(id, 3, 1, 1, 4, S, S + 40, 2_000_000), NOW, outcome.ref())));
      }
      // the same id again, while the first may still be waiting in the same batch
      gate.tell(
          new MarketGate.Place(
              Market.PlaceBid.of(
                  BidSpec.gtc(n, 3, 1, 1, 4, S, S + 40, 2_000_000), NOW, outcome.ref())));
      int ok = 0;
      int duplicate = 0;
      for (int i = 0; i <= n; i++) {
        ResultCode rc = outcome.expectMessageClass(Market.Outcome.class, WAIT).code();
        ok += rc == ResultCode.OK ? 1 : 0;
        duplicate += rc == ResultCode.DUPLICATE_ID ? 1 : 0;
      }
      assertEquals(n, ok);
      assertEquals(1, duplicate);
      TestProbe<MarketGate.Stats> stats = kit.createTestProbe();
      gate.tell(new MarketGate.GetStats(stats.ref()));
      MarketGate.Stats st = stats.expectMessageClass(MarketGate.Stats.class, WAIT);
      assertEquals(n + 1, st.bids());
      assertTrue(st.batches() <= n / 10, "expected group commit, got " + st);

      image = image(kit, market);
    } finally {
      kit.shutdownTestKit();
    }
    assertRecoversExactly(
        model,
        image,
        (again, market) -> {
          TestProbe<Market.BidSummary> bids = again.createTestProbe();
          for (long id = 1; id <= n; id += 37) {
            market.tell(new Market.GetBid(id, bids.ref()));
            assertTrue(bids.expectMessageClass(Market.BidSummary.class, WAIT).open(), "bid " + id);
          }
        });
  }

  @Test
  void shouldPlaceABatchForOneMarketAsOneMessageAndAnswerEachBidInOrder() {
    GpuModel model = new GpuModel("ALL-" + System.nanoTime());
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          kit.spawn(Market.create(model, CLOCK, PricingRule.PAY_AS_CLEAR));
      ActorRef<MarketGate.Message> gate = kit.spawn(MarketGate.create(market));
      // 150 bids (more than one write holds), with an id repeated and a bid already over
      java.util.List<Market.PlaceBid> first = new java.util.ArrayList<>();
      for (long id = 1; id <= 150; id++) {
        long bidId = id == 77 ? 5 : id;
        int start = id == 120 ? S - 10 : S;
        int end = id == 120 ? S - 1 : S + 40;
        first.add(
            new Market.PlaceBid(
                BidSpec.gtc(bidId, 3, 1, 1, 4, start, end, 2_000_000), NOW, Long.MAX_VALUE, null));
      }
      java.util.List<Market.PlaceBid> second =
          java.util.List.of(
              new Market.PlaceBid(
                  BidSpec.gtc(1_000, 3, 1, 1, 4, S, S + 40, 2_000_000), NOW, Long.MAX_VALUE, null),
              new Market.PlaceBid(
                  BidSpec.gtc(1, 3, 1, 1, 4, S, S + 40, 2_000_000), NOW, Long.MAX_VALUE, null));
      TestProbe<MarketGate.Outcomes> one = kit.createTestProbe();
      TestProbe<MarketGate.Outcomes> two = kit.createTestProbe();
      gate.tell(new MarketGate.PlaceAll(first, one.ref()));
      gate.tell(new MarketGate.PlaceAll(second, two.ref()));

      java.util.List<ResultCode> results = one.receiveMessage(WAIT).results();
      assertEquals(150, results.size());
      for (int i = 0; i < 150; i++) {
        ResultCode expected =
            i == 76 ? ResultCode.DUPLICATE_ID : i == 119 ? ResultCode.IN_THE_PAST : ResultCode.OK;
        assertEquals(expected, results.get(i), "bid " + (i + 1));
      }
      assertEquals(
          java.util.List.of(ResultCode.OK, ResultCode.DUPLICATE_ID),
          two.receiveMessage(WAIT).results());
      // 100 bids, then the other 50 with the second request's 2: two writes for 152 bids
      TestProbe<MarketGate.Stats> stats = kit.createTestProbe();
      gate.tell(new MarketGate.GetStats(stats.ref()));
      assertEquals(new MarketGate.Stats(2, 152), stats.receiveMessage(WAIT));
      TestProbe<Market.BidSummary> bids = kit.createTestProbe();
      market.tell(new Market.GetBid(150, bids.ref()));
      assertTrue(bids.receiveMessage(WAIT).open());
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void shouldWriteBidsAndCancelsOfOneBatchTogetherEachWithItsOwnOutcome() {
    GpuModel model = new GpuModel("MIXED-" + System.nanoTime());
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          kit.spawn(Market.create(model, CLOCK, PricingRule.PAY_AS_CLEAR));
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      placeMany(market, outcome, 1, 3);
      TestProbe<Market.Outcome> a = kit.createTestProbe();
      TestProbe<Market.Outcome> b = kit.createTestProbe();
      TestProbe<Market.Outcome> c = kit.createTestProbe();
      TestProbe<Market.Outcome> d = kit.createTestProbe();
      TestProbe<Market.Outcome> e = kit.createTestProbe();
      TestProbe<Market.BatchWritten> done = kit.createTestProbe();
      market.tell(
          new Market.PlaceBids(
              7,
              java.util.List.of(
                  new Market.CancelBid(1, a.ref()),
                  Market.PlaceBid.of(
                      BidSpec.gtc(10, 9, 1, 1, 4, S + 8, S + 40, 900_000), NOW, b.ref()),
                  new Market.CancelBid(10, c.ref()), // placed just before, in the same write
                  new Market.CancelBid(1, d.ref()), // cancelled just before
                  new Market.CancelBid(999, e.ref())),
              done.ref()));
      assertEquals(
          new Market.BatchWritten(
              7,
              1,
              java.util.List.of(
                  ResultCode.OK,
                  ResultCode.OK,
                  ResultCode.OK,
                  ResultCode.UNKNOWN_BID,
                  ResultCode.UNKNOWN_BID)),
          done.receiveMessage(WAIT));
      assertEquals(ResultCode.OK, a.receiveMessage(WAIT).code());
      assertEquals(ResultCode.OK, b.receiveMessage(WAIT).code());
      assertEquals(ResultCode.OK, c.receiveMessage(WAIT).code());
      assertEquals(ResultCode.UNKNOWN_BID, d.receiveMessage(WAIT).code());
      assertEquals(ResultCode.UNKNOWN_BID, e.receiveMessage(WAIT).code());
      TestProbe<Market.BidSummary> bids = kit.createTestProbe();
      for (long id : new long[] {1, 10}) {
        market.tell(new Market.GetBid(id, bids.ref()));
        assertFalse(bids.receiveMessage(WAIT).open(), "bid " + id);
      }
      market.tell(new Market.GetBid(2, bids.ref()));
      assertTrue(bids.receiveMessage(WAIT).open());
    } finally {
      kit.shutdownTestKit();
    }
  }

  static Market.FeedOffer feedOffer(long window, long seq, int start, int end) {
    return new Market.FeedOffer(
        new WindowSpec(window, 1, 0, 0, 4, 8, start, end, 1_000_000, 300, 950_000),
        "pool-a",
        seq,
        NOW,
        null);
  }

  static Market.ExtendWindow feedExtend(long window, long seq, int end) {
    return new Market.ExtendWindow(1, window, end, seq, NOW, null);
  }

  static Market.RevokeWindow feedRevoke(long window, long seq) {
    return new Market.RevokeWindow(
        1, window, 1, NOW, io.surplus.engine.RevocationKind.EMERGENCY, seq, NOW, null);
  }

  static java.util.List<ResultCode> codes(TestProbe<Market.FeedOutcomes> probe) {
    return probe.receiveMessage(WAIT).outcomes().stream().map(Market.FeedOutcome::code).toList();
  }

  @Test
  void shouldWriteAProvidersFeedEventsTogetherInOrderEachWithItsOwnOutcome() {
    GpuModel model = new GpuModel("FEED-" + System.nanoTime());
    ResultCode ok = ResultCode.OK;
    byte[] image;
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          kit.spawn(Market.create(model, CLOCK, PricingRule.PAY_AS_CLEAR));
      TestProbe<Market.FeedOutcomes> probe = kit.createTestProbe();
      // three windows, then an extension of the first: it names a window named before in the
      // write, so the write ends before it and the caller sends it again
      market.tell(
          new Market.ApplyFeed(
              java.util.List.of(
                  feedOffer(1, 1, S, S + 16),
                  feedOffer(2, 2, S, S + 16),
                  feedOffer(3, 3, S, S + 16),
                  feedExtend(1, 4, S + 20)),
              probe.ref()));
      assertEquals(java.util.List.of(ok, ok, ok), codes(probe));
      // a window already over is refused, and nothing after it is tried
      market.tell(
          new Market.ApplyFeed(
              java.util.List.of(
                  feedExtend(1, 4, S + 20),
                  feedOffer(4, 5, S - 10, S - 2),
                  feedOffer(5, 6, S, S + 16)),
              probe.ref()));
      assertEquals(java.util.List.of(ok, ResultCode.IN_THE_PAST), codes(probe));
      // so window 5's sequence was never applied: sent alone, it is applied now, not a duplicate
      market.tell(new Market.ApplyFeed(java.util.List.of(feedOffer(5, 6, S, S + 16)), probe.ref()));
      java.util.List<Market.FeedOutcome> fifth = probe.receiveMessage(WAIT).outcomes();
      assertEquals(java.util.List.of(Market.FeedOutcome.APPLIED), fifth);
      // a sequence applied before is a duplicate; a revocation may only open a write (it runs
      // on the book before the write), so the second one ends it
      market.tell(
          new Market.ApplyFeed(
              java.util.List.of(
                  feedOffer(1, 1, S, S + 16),
                  feedRevoke(2, 7),
                  feedOffer(6, 8, S, S + 16),
                  feedRevoke(3, 9)),
              probe.ref()));
      java.util.List<Market.FeedOutcome> mixed = probe.receiveMessage(WAIT).outcomes();
      assertEquals(3, mixed.size(), mixed.toString());
      assertTrue(mixed.get(0).duplicate());
      assertEquals(ok, mixed.get(1).code());
      assertFalse(mixed.get(1).duplicate());
      assertEquals(Market.FeedOutcome.APPLIED, mixed.get(2));
      market.tell(new Market.ApplyFeed(java.util.List.of(feedRevoke(3, 9)), probe.ref()));
      assertEquals(java.util.List.of(ok), codes(probe));
      image = image(kit, market);
    } finally {
      kit.shutdownTestKit();
    }
    assertRecoversExactly(model, image, (k, m) -> {});
  }

  @Test
  void shouldClearOnItsOwnTimerAndRecordTheEpochInTheJournal() {
    GpuModel model = new GpuModel("TIMER-" + System.nanoTime());
    java.util.concurrent.atomic.AtomicLong wall = new java.util.concurrent.atomic.AtomicLong(NOW);
    byte[] image;
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          kit.spawn(
              Market.create(
                  model, CLOCK, PricingRule.PAY_AS_CLEAR, Duration.ofMillis(100), wall::get));
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      market.tell(
          new Market.OfferWindow(
              new WindowSpec(1, 1, 0, 0, 4, 8, S, S + 16, 1_000_000, 300, 950_000),
              "pool-a",
              NOW,
              outcome.ref()));
      outcome.expectMessageClass(Market.Outcome.class, WAIT);
      market.tell(
          Market.PlaceBid.of(BidSpec.gtc(1, 7, 2, 2, 4, S, S + 16, 2_000_000), NOW, outcome.ref()));
      assertEquals(ResultCode.OK, outcome.expectMessageClass(Market.Outcome.class, WAIT).code());
      TestProbe<Market.BidSummary> bids = kit.createTestProbe();
      Market.BidSummary summary =
          bids.awaitAssert(
              WAIT,
              () -> {
                market.tell(new Market.GetBid(1, bids.ref()));
                Market.BidSummary b = bids.expectMessageClass(Market.BidSummary.class, WAIT);
                assertFalse(b.open(), "the timer's epoch has not filled the bid yet");
                return b;
              });
      assertFalse(summary.open());
      image = image(kit, market);
    } finally {
      kit.shutdownTestKit();
    }
    assertRecoversExactly(model, image, (again, market) -> {});
  }
}
