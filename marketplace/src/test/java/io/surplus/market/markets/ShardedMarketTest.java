package io.surplus.market.markets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.surplus.engine.BidSpec;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.market.cassandra.TestCassandra;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Markets as sharded entities on a one-node Pekko Cluster, journaled to the real node. */
class ShardedMarketTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final Duration WAIT = Duration.ofSeconds(60);
  static ActorTestKit kit;

  @BeforeAll
  static void cluster() {
    TestCassandra.node();
    Config config =
        ConfigFactory.parseString(
                "pekko.actor.provider = cluster\n"
                    + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                    + "pekko.remote.artery.canonical.port = 0\n"
                    + "pekko.actor.serialize-messages = on\n")
            .withFallback(ConfigFactory.load());
    kit = ActorTestKit.create("sharded-market-test", config);
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    MarketGate.init(kit.system(), CLOCK, PricingRule.PAY_AS_CLEAR, Duration.ofMillis(200));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void shouldPlaceBidsThroughTheShardedEntityOfTheirGpuModel() {
    String model = "SHARD-" + System.nanoTime();
    long now = System.currentTimeMillis();
    int s = CLOCK.slotAtOrAfter(now);
    EntityRef<MarketGate.Message> market =
        ClusterSharding.get(kit.system()).entityRefFor(MarketGate.ENTITY_KEY, model);
    Market.Outcome placed =
        market
            .<Market.Outcome>ask(
                reply ->
                    new MarketGate.Place(
                        Market.PlaceBid.of(
                            BidSpec.gtc(1, 5, 2, 2, 4, s, s + 8, 2_000_000), now, reply)),
                WAIT)
            .toCompletableFuture()
            .join();
    assertEquals(ResultCode.OK, placed.code());
    Market.BidSummary bid =
        market
            .<Market.BidSummary>ask(
                reply -> new MarketGate.Forward(new Market.GetBid(1, reply)), WAIT)
            .toCompletableFuture()
            .join();
    assertTrue(bid.open());
    assertEquals(4, bid.bid().durationSlots());
    Market.Outcome cancelled =
        market
            .<Market.Outcome>ask(
                reply -> new MarketGate.Forward(new Market.CancelBid(1, reply)), WAIT)
            .toCompletableFuture()
            .join();
    assertEquals(ResultCode.OK, cancelled.code());
  }
}
