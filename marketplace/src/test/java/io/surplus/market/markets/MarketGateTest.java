package io.surplus.market.markets;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.surplus.engine.BidSpec;
import io.surplus.engine.ResultCode;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The gate's group commit, with a probe in the market's place so the test decides when a write is
 * done: bids and cancels that arrive during a write go together, in arrival order, as the next one.
 */
class MarketGateTest {

  static final ActorTestKit kit =
      ActorTestKit.create(
          "gate-test",
          ConfigFactory.parseString("pekko.actor.provider = local")
              .withFallback(ConfigFactory.load()));

  static final Duration WAIT = Duration.ofSeconds(10);

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  static Market.PlaceBid bid(long id, ActorRef<Market.Outcome> replyTo) {
    return Market.PlaceBid.of(BidSpec.gtc(id, 3, 1, 1, 4, 100, 140, 2_000_000), 0, replyTo);
  }

  @Test
  void shouldSendTheBidsAndCancelsThatArriveDuringAWriteAsTheNextOneInOrder() {
    TestProbe<Market.Command> market = kit.createTestProbe();
    TestProbe<Market.Outcome> outcomes = kit.createTestProbe();
    ActorRef<MarketGate.Message> gate = kit.spawn(MarketGate.create(market.getRef()));

    gate.tell(new MarketGate.Place(bid(1, outcomes.getRef())));
    Market.PlaceBids first = market.expectMessageClass(Market.PlaceBids.class, WAIT);
    assertEquals(1, first.bids().size());

    // while the first write is in flight: a cancel, a bid, another cancel
    Market.CancelBid cancelOne = new Market.CancelBid(1, outcomes.getRef());
    Market.PlaceBid two = bid(2, outcomes.getRef());
    Market.CancelBid cancelTwo = new Market.CancelBid(2, outcomes.getRef());
    gate.tell(new MarketGate.Forward(cancelOne));
    gate.tell(new MarketGate.Place(two));
    gate.tell(new MarketGate.Forward(cancelTwo));
    TestProbe<MarketGate.Stats> stats = kit.createTestProbe();
    gate.tell(new MarketGate.GetStats(stats.getRef())); // after the three: they are waiting
    assertEquals(new MarketGate.Stats(1, 1), stats.receiveMessage(WAIT));
    market.expectNoMessage(Duration.ofMillis(50));

    first.done().tell(new Market.BatchWritten(first.batch(), 1, List.of(ResultCode.OK)));
    Market.PlaceBids second = market.expectMessageClass(Market.PlaceBids.class, WAIT);
    assertEquals(List.of(cancelOne, two, cancelTwo), second.bids());
    gate.tell(new MarketGate.GetStats(stats.getRef()));
    assertEquals(new MarketGate.Stats(2, 4), stats.receiveMessage(WAIT));

    // other commands still pass straight through
    TestProbe<Market.BidSummary> summary = kit.createTestProbe();
    Market.GetBid get = new Market.GetBid(2, summary.getRef());
    gate.tell(new MarketGate.Forward(get));
    assertEquals(get, market.expectMessageClass(Market.GetBid.class, WAIT));
  }

  @Test
  void shouldStopItsMarketOnlyAfterTheWriteInFlightAndTheBidsThatWaitedAreWritten() {
    TestProbe<Market.Command> market = kit.createTestProbe();
    TestProbe<Market.Outcome> outcomes = kit.createTestProbe();
    ActorRef<MarketGate.Message> gate = kit.spawn(MarketGate.create(market.getRef()));
    TestProbe<Object> watcher = kit.createTestProbe();

    gate.tell(new MarketGate.Place(bid(1, outcomes.getRef())));
    Market.PlaceBids first = market.expectMessageClass(Market.PlaceBids.class, WAIT);
    gate.tell(new MarketGate.Place(bid(2, outcomes.getRef()))); // waits behind the first write
    gate.tell(new MarketGate.Stop()); // a shard hand-off
    market.expectNoMessage(Duration.ofMillis(100)); // no stop while a write is in flight

    first.done().tell(new Market.BatchWritten(first.batch(), 1, List.of(ResultCode.OK)));
    Market.PlaceBids second = market.expectMessageClass(Market.PlaceBids.class, WAIT);
    assertEquals(1, second.bids().size());
    market.expectNoMessage(Duration.ofMillis(100)); // nor while the waiting bid is written
    second.done().tell(new Market.BatchWritten(second.batch(), 1, List.of(ResultCode.OK)));
    market.expectMessageClass(Market.Stop.class, WAIT);

    // the gate outlives its market's last write, and stops with it
    TestProbe<MarketGate.Health> health = kit.createTestProbe();
    gate.tell(new MarketGate.GetHealth(health.getRef()));
    health.expectMessageClass(MarketGate.Health.class, WAIT);
    market.stop();
    watcher.expectTerminated(gate, WAIT);
  }
}
