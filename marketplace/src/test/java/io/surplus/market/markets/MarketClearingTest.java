package io.surplus.market.markets;

import static io.surplus.market.markets.MarketPersistenceTest.CLOCK;
import static io.surplus.market.markets.MarketPersistenceTest.NOW;
import static io.surplus.market.markets.MarketPersistenceTest.S;
import static io.surplus.market.markets.MarketPersistenceTest.WAIT;
import static io.surplus.market.markets.MarketPersistenceTest.assertRecoversExactly;
import static io.surplus.market.markets.MarketPersistenceTest.testKit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.BidSpec;
import io.surplus.engine.GpuModel;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.WindowSpec;
import io.surplus.market.cassandra.TestCassandra;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An epoch clears off the market's actor: while a cut is held on its clearing thread, bids, cancels
 * and feed changes are written and answered, and the journal replays to the same book. The clearing
 * thread here is a {@link HeldExecutor} the test releases, so "during the epoch" is an event, not a
 * timing.
 */
class MarketClearingTest {

  @BeforeAll
  static void cassandra() {
    TestCassandra.node();
  }

  /** Holds every clearing handed to it until the test runs it. */
  static final class HeldExecutor implements Executor {
    private final BlockingQueue<Runnable> held = new LinkedBlockingQueue<>();

    @Override
    public void execute(Runnable clearing) {
      held.add(clearing);
    }

    /** The next epoch cut: its clearing, not yet run. */
    Runnable next() throws InterruptedException {
      Runnable clearing = held.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(clearing, "the market never cut an epoch");
      return clearing;
    }
  }

  static Market.Links links(Executor clearing) {
    return new Market.Links(null, null, null, null, null, null, clearing);
  }

  /** A market whose timer never fires on its own: the test cuts epochs with {@code Tick}. */
  static ActorRef<Market.Command> spawn(ActorTestKit kit, GpuModel model, Executor clearing) {
    return kit.spawn(
        Market.create(
            model,
            CLOCK,
            PricingRule.PAY_AS_CLEAR,
            Duration.ofHours(1),
            () -> NOW,
            links(clearing)));
  }

  static final WindowSpec W1 = new WindowSpec(1, 1, 0, 0, 8, 8, S, S + 16, 1_000_000, 300, 950_000);
  static final WindowSpec W2 = new WindowSpec(2, 1, 0, 0, 4, 8, S, S + 16, 1_000_000, 300, 950_000);

  static ResultCode offer(
      ActorRef<Market.Command> market, TestProbe<Market.Outcome> probe, WindowSpec window) {
    market.tell(new Market.OfferWindow(window, "pool-a", NOW, probe.ref()));
    return probe.expectMessageClass(Market.Outcome.class, WAIT).code();
  }

  static ResultCode place(
      ActorRef<Market.Command> market, TestProbe<Market.Outcome> probe, BidSpec bid) {
    market.tell(Market.PlaceBid.of(bid, NOW, probe.ref()));
    return probe.expectMessageClass(Market.Outcome.class, WAIT).code();
  }

  static boolean open(
      ActorRef<Market.Command> market, TestProbe<Market.BidSummary> probe, long id) {
    market.tell(new Market.GetBid(id, probe.ref()));
    return probe.expectMessageClass(Market.BidSummary.class, WAIT).open();
  }

  /** The book's image once every command before is done (an epoch in flight is waited for). */
  static byte[] imageOf(ActorTestKit kit, ActorRef<Market.Command> market) {
    TestProbe<Market.Image> images = kit.createTestProbe();
    market.tell(new Market.GetImage(images.ref()));
    return images.expectMessageClass(Market.Image.class, WAIT).bytes();
  }

  @Test
  void shouldJournalItsClearingRuleSoEpochsReplayAsTheyWereCleared() throws Exception {
    GpuModel model = new GpuModel("RULE-" + System.nanoTime());
    byte[] greedy;
    // first incarnation: the default rule, one epoch without the repair pass
    ActorTestKit off = testKit();
    try {
      HeldExecutor clearing = new HeldExecutor();
      ActorRef<Market.Command> market = spawn(off, model, clearing);
      TestProbe<Market.Outcome> outcome = off.createTestProbe();
      assertEquals(ResultCode.OK, offer(market, outcome, W1));
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(1, 7, 4, 4, 4, S, S + 16, 2_000_000)));
      market.tell(Market.Tick.INSTANCE);
      clearing.next().run();
      greedy = imageOf(off, market);
      assertFalse(io.surplus.engine.book.OrderBook.restore(greedy).repair());
    } finally {
      off.shutdownTestKit();
    }
    // second incarnation, configured with the pass: the next tick writes the rule, not an epoch
    byte[] repaired;
    ActorTestKit on =
        ActorTestKit.create(
            "market-test",
            com.typesafe.config.ConfigFactory.parseString(Market.REPAIR_PASS + " = on")
                .withFallback(com.typesafe.config.ConfigFactory.load()));
    try {
      HeldExecutor clearing = new HeldExecutor();
      ActorRef<Market.Command> market = spawn(on, model, clearing);
      assertTrue(java.util.Arrays.equals(greedy, imageOf(on, market)), "recovered as written");
      market.tell(Market.Tick.INSTANCE);
      io.surplus.engine.book.OrderBook ruled =
          io.surplus.engine.book.OrderBook.restore(imageOf(on, market));
      assertTrue(ruled.repair());
      assertTrue(ruled.repack(), "the pass's re-pack phase is on by default with the pass");
      TestProbe<Market.Outcome> outcome = on.createTestProbe();
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(2, 8, 4, 4, 4, S, S + 16, 1_500_000)));
      market.tell(Market.Tick.INSTANCE); // an epoch with the pass
      clearing.next().run();
      repaired = imageOf(on, market);
    } finally {
      on.shutdownTestKit();
    }
    // a market that is never told the setting replays both epochs as they were cleared
    assertRecoversExactly(
        model,
        repaired,
        (kit, market) -> {
          io.surplus.engine.book.OrderBook book =
              io.surplus.engine.book.OrderBook.restore(imageOf(kit, market));
          assertTrue(book.repair());
          assertTrue(book.repack());
        });
  }

  /**
   * A ClearingRuleSet journaled before the re-pack phase existed ({@code {"repair": true}} in CBOR)
   * reads back as the rule it set: the pass without the phase.
   */
  @Test
  void shouldReadARuleWrittenBeforeTheRepackPhaseAsThePassWithoutIt() throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper cbor =
        new com.fasterxml.jackson.databind.ObjectMapper(
            new com.fasterxml.jackson.dataformat.cbor.CBORFactory());
    com.fasterxml.jackson.databind.node.ObjectNode old =
        cbor.createObjectNode().put("repair", true);
    Market.ClearingRuleSet read =
        cbor.readValue(cbor.writeValueAsBytes(old), Market.ClearingRuleSet.class);
    assertEquals(new Market.ClearingRuleSet(true, false), read);
    Market.ClearingRuleSet now = new Market.ClearingRuleSet(true, true);
    assertEquals(now, cbor.readValue(cbor.writeValueAsBytes(now), Market.ClearingRuleSet.class));
  }

  @Test
  void shouldWriteAndAnswerWhileAnEpochClearsAndReplayTheSameBook() throws Exception {
    GpuModel model = new GpuModel("CUT-" + System.nanoTime());
    HeldExecutor clearing = new HeldExecutor();
    byte[] image;
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market = spawn(kit, model, clearing);
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      assertEquals(ResultCode.OK, offer(market, outcome, W1));
      // bids 1 and 2 fill W1's 8 nodes; bid 3 wants all 8 for the whole window and stays open
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(1, 7, 4, 4, 4, S, S + 16, 2_000_000)));
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(2, 7, 4, 4, 4, S, S + 16, 1_500_000)));
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(3, 7, 8, 8, 16, S, S + 16, 1_200_000)));

      market.tell(Market.Tick.INSTANCE);
      Runnable epoch = clearing.next(); // the cut is written; its clearing is held

      // while it is held: a new bid is written and acknowledged, duplicates are refused
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(10, 8, 4, 4, 4, S, S + 16, 1_100_000)));
      assertEquals(
          ResultCode.DUPLICATE_ID,
          place(market, outcome, BidSpec.gtc(1, 7, 1, 1, 4, S, S + 16, 1_000_000)));
      assertEquals(
          ResultCode.DUPLICATE_ID,
          place(market, outcome, BidSpec.gtc(10, 8, 1, 1, 4, S, S + 16, 1_000_000)));
      // a feed window is written and acknowledged; its sequence is then a duplicate
      TestProbe<Market.FeedOutcome> feed = kit.createTestProbe();
      market.tell(new Market.FeedOffer(W2, "pool-a", 1, NOW, feed.ref()));
      assertEquals(
          Market.FeedOutcome.APPLIED, feed.expectMessageClass(Market.FeedOutcome.class, WAIT));
      market.tell(new Market.FeedOffer(W2, "pool-a", 1, NOW, feed.ref()));
      assertEquals(
          Market.FeedOutcome.DUPLICATE, feed.expectMessageClass(Market.FeedOutcome.class, WAIT));

      // cancels and extensions depend on the epoch: written now, answered after it
      TestProbe<Market.Outcome> cancel1 = kit.createTestProbe();
      TestProbe<Market.Outcome> cancel3 = kit.createTestProbe();
      market.tell(new Market.CancelBid(1, cancel1.ref()));
      // as the gate sends them: a bid and a cancel in one write (the bid below every reserve)
      TestProbe<Market.Outcome> placed12 = kit.createTestProbe();
      TestProbe<Market.BatchWritten> written = kit.createTestProbe();
      market.tell(
          new Market.PlaceBids(
              1,
              List.of(
                  Market.PlaceBid.of(
                      BidSpec.gtc(12, 8, 1, 1, 4, S, S + 16, 900_000), NOW, placed12.ref()),
                  new Market.CancelBid(3, cancel3.ref())),
              written.ref()));
      assertEquals(
          List.of(ResultCode.OK, ResultCode.OK),
          written.expectMessageClass(Market.BatchWritten.class, WAIT).results());
      assertEquals(ResultCode.OK, placed12.expectMessageClass(Market.Outcome.class, WAIT).code());
      TestProbe<Market.FeedOutcome> extend = kit.createTestProbe();
      TestProbe<Market.FeedOutcome> shorter = kit.createTestProbe();
      market.tell(new Market.ExtendWindow(1, 1, S + 20, 2, NOW, extend.ref()));
      market.tell(new Market.ExtendWindow(1, 1, S + 18, 3, NOW, shorter.ref()));
      TestProbe<Market.BidSummary> bids = kit.createTestProbe();
      market.tell(new Market.GetBid(10, bids.ref())); // a read of the book waits for the epoch
      // a bid after them is answered at once; the replies above, had they been sent, would be
      // in their probes before this one (one sender, local mailboxes)
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(11, 8, 1, 1, 4, S, S + 16, 1_050_000)));
      cancel1.expectNoMessage(Duration.ofMillis(1));
      cancel3.expectNoMessage(Duration.ofMillis(1));
      extend.expectNoMessage(Duration.ofMillis(1));
      bids.expectNoMessage(Duration.ofMillis(1));

      epoch.run(); // the epoch clears: bids 1 and 2 fill
      assertEquals(
          ResultCode.UNKNOWN_BID, cancel1.expectMessageClass(Market.Outcome.class, WAIT).code());
      assertEquals(ResultCode.OK, cancel3.expectMessageClass(Market.Outcome.class, WAIT).code());
      assertEquals(
          Market.FeedOutcome.APPLIED, extend.expectMessageClass(Market.FeedOutcome.class, WAIT));
      assertEquals(
          ResultCode.INVALID_AMENDMENT,
          shorter.expectMessageClass(Market.FeedOutcome.class, WAIT).code());
      assertTrue(bids.expectMessageClass(Market.BidSummary.class, WAIT).open());
      assertFalse(open(market, bids, 1));
      assertFalse(open(market, bids, 3));
      assertTrue(open(market, bids, 12));

      // the next epoch clears the bids written during the last one, in W2 and W1
      market.tell(Market.Tick.INSTANCE);
      clearing.next().run();
      assertFalse(open(market, bids, 10));
      assertFalse(open(market, bids, 11));

      image = MarketPersistenceTest.image(kit, market);
    } finally {
      kit.shutdownTestKit();
    }
    // replay: the cut, the changes after it, the epoch, then those changes; byte for byte the same
    assertRecoversExactly(model, image, (again, market) -> {});
  }

  @Test
  void shouldSkipAnEpochWithNothingNewToTry() throws Exception {
    GpuModel model = new GpuModel("IDLE-" + System.nanoTime());
    HeldExecutor clearing = new HeldExecutor();
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market = spawn(kit, model, clearing);
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      assertEquals(ResultCode.OK, offer(market, outcome, W1));
      // below W1's reserve: open after every epoch
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(1, 7, 4, 4, 4, S, S + 16, 900_000)));
      market.tell(Market.Tick.INSTANCE);
      clearing.next().run();
      TestProbe<Market.BidSummary> bids = kit.createTestProbe();
      assertTrue(open(market, bids, 1));

      // same slot, nothing changed: no cut (a cut would hold the read below until it clears)
      market.tell(Market.Tick.INSTANCE);
      assertTrue(open(market, bids, 1), "an idle epoch was cut");
      assertEquals(null, clearing.held.peek());

      // a new bid is something new to try
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(2, 7, 4, 4, 4, S, S + 16, 2_000_000)));
      market.tell(Market.Tick.INSTANCE);
      clearing.next().run();
      assertFalse(open(market, bids, 2));
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void shouldFinishAnEpochWhoseCutOutlivedTheMarketAndKeepEveryBidWrittenDuringIt()
      throws Exception {
    GpuModel model = new GpuModel("CRASH-" + System.nanoTime());
    int during = Market.SNAPSHOT_EVERY; // enough to pass a snapshot while the cut is held
    ActorTestKit kit = testKit();
    try {
      ActorRef<Market.Command> market =
          spawn(kit, model, clearing -> {}); // never clears: the market dies mid-epoch
      TestProbe<Market.Outcome> outcome = kit.createTestProbe();
      assertEquals(ResultCode.OK, offer(market, outcome, W1));
      assertEquals(
          ResultCode.OK, place(market, outcome, BidSpec.gtc(1, 7, 4, 4, 4, S, S + 16, 2_000_000)));
      TestProbe<Market.BidSummary> bids = kit.createTestProbe();
      market.tell(Market.Tick.INSTANCE);
      // the cut is taken before GetBid is read; GetBid then waits for an epoch that never comes
      market.tell(new Market.GetBid(1, bids.ref()));
      MarketPersistenceTest.placeMany(market, outcome, 100, during);
      bids.expectNoMessage(Duration.ofMillis(1));
    } finally {
      kit.shutdownTestKit();
    }

    byte[] image;
    ActorTestKit again = testKit();
    try {
      // recovery finds the cut without its epoch and clears it (here on the recovering thread)
      ActorRef<Market.Command> market = spawn(again, model, Runnable::run);
      TestProbe<Market.BidSummary> bids = again.createTestProbe();
      assertFalse(open(market, bids, 1), "the held epoch was not cleared after recovery");
      for (long id = 100; id < 100 + during; id += 97) {
        assertTrue(open(market, bids, id), "bid " + id + " was acknowledged during the cut");
      }
      image = MarketPersistenceTest.image(again, market);
    } finally {
      again.shutdownTestKit();
    }
    assertRecoversExactly(model, image, (kit2, market) -> {});
  }
}
