package io.surplus.market.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketTopics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The fan-out paced in shares: every stream still gets every event once, in publication order,
 * after its {@code subscribed}, whatever the share and the pause, and as it does all at once.
 */
class StreamFanOutTest {

  private static final ActorTestKit KIT =
      ActorTestKit.create("fan-out-test", ConfigFactory.parseString("pekko.loglevel = WARNING"));

  private static final String MARKET = "H100-SXM-80GB";

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  /** A stream as the fan-out sees it, whose messages land in {@code received}. */
  private record Stream(StreamFanOut.Subscriber subscriber, BlockingQueue<String> received) {}

  private static Stream stream() {
    return stream(MARKET);
  }

  private static Stream stream(String market) {
    Pair<BoundedSourceQueue<Message>, Source<Message, org.apache.pekko.NotUsed>> q =
        Source.<Message>queue(64).preMaterialize(KIT.system());
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    q.second()
        .runWith(Sink.foreach(m -> received.add(m.asTextMessage().getStrictText())), KIT.system());
    return new Stream(
        new StreamFanOut.Subscriber(
            Set.of(market), List.of(market), 0, q.first(), new AtomicReference<>()),
        received);
  }

  private static String next(Stream s) throws InterruptedException {
    String m = s.received().poll(10, TimeUnit.SECONDS);
    assertNotNull(m, "a message within 10 s");
    return m;
  }

  /** Each of {@code n} streams' messages after three epochs published through the topic. */
  private static List<List<String>> deliver(StreamFanOut.Pacing pacing, int n, String name)
      throws InterruptedException {
    MarketTopics topics = topics(name);
    ActorRef<StreamFanOut.Command> fanOut =
        KIT.spawn(
            StreamFanOut.create(
                topics,
                (followed, seen) -> "subscribed " + seen,
                64,
                new SimpleMeterRegistry(),
                pacing,
                StreamRoutes.HEARTBEAT),
            name);
    List<Stream> streams = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Stream s = stream();
      fanOut.tell(new StreamFanOut.Join(s.subscriber()));
      streams.add(s);
    }
    for (Stream s : streams) {
      assertEquals("subscribed {}", next(s)); // its subscriptions are live from here on
    }
    for (long epoch = 1; epoch <= 3; epoch++) {
      publish(topics, MARKET, epoch);
    }
    List<List<String>> all = new ArrayList<>();
    for (Stream s : streams) {
      List<String> got = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        got.add(next(s).replaceAll(".*\"epoch\":(\\d+).*", "$1"));
      }
      all.add(got);
    }
    // a late stream is told the latest epoch, and gets none it was not told of
    Stream late = stream();
    fanOut.tell(new StreamFanOut.Join(late.subscriber()));
    assertEquals("subscribed " + Map.of(MARKET, 3L), next(late));
    assertTrue(late.received().isEmpty(), "nothing before the next epoch");
    return all;
  }

  /**
   * Topics of their own for one fan-out: named after it, as a node has one topic of each name. With
   * the service's names, every fan-out's topics here would be instances of the same topics, and a
   * topic publishes to the instances its listing names once it names any: a publish before the
   * listing named the new fan-out's own topic went to an earlier test's instance only (the 10-run
   * loop saw a stream wait 10 s for an epoch, once in ten runs).
   */
  private static MarketTopics topics(String name) {
    return new MarketTopics(
        KIT.spawn(Topic.create(Market.EpochPublished.class, name + "-epochs"), name + "-epochs"),
        KIT.spawn(
            Topic.create(Market.RevocationPublished.class, name + "-revocations"),
            name + "-revocations"),
        KIT.spawn(
            Topic.create(Market.LeaseNoticePublished.class, name + "-notices"), name + "-notices"),
        KIT.spawn(Topic.create(Market.ViewPublished.class, name + "-views"), name + "-views"));
  }

  private static void publish(MarketTopics topics, String market, long epoch) {
    topics
        .epochs()
        .tell(
            Topic.publish(
                new Market.EpochPublished(market, epoch, 1_000 * epoch, 0, 0, 0, 0, new int[0])));
  }

  /**
   * One timer for all streams: at a tick, a stream sent nothing for two thirds of the period gets a
   * heartbeat, and a stream its markets keep busy gets none. The fan-out's clock and ticks are the
   * test's (its own timer ticks once an hour), so nothing here waits on time.
   */
  @Test
  void shouldSendTheHeartbeatOnlyToStreamsSentNothingForTwoThirdsOfItsPeriod() throws Exception {
    String other = "H200-SXM-141GB";
    MarketTopics topics = topics("beats");
    AtomicLong clock = new AtomicLong();
    ActorRef<StreamFanOut.Command> fanOut =
        KIT.spawn(
            StreamFanOut.create(
                topics,
                (followed, seen) -> "subscribed",
                64,
                new SimpleMeterRegistry(),
                StreamFanOut.Pacing.AT_ONCE,
                Duration.ofSeconds(15),
                Duration.ofHours(1),
                clock::get),
            "beats");
    Stream quiet = stream();
    Stream busy = stream(other);
    fanOut.tell(new StreamFanOut.Join(quiet.subscriber()));
    fanOut.tell(new StreamFanOut.Join(busy.subscriber()));
    assertEquals("subscribed", next(quiet));
    assertEquals("subscribed", next(busy)); // both were last sent something at 0 s

    clock.set(TimeUnit.SECONDS.toNanos(9)); // under 10 s (2/3 of 15): nobody is idle yet
    fanOut.tell(StreamFanOut.Heartbeat.INSTANCE);
    publish(topics, other, 1);
    assertTrue(next(busy).contains("\"epoch\":1"), "the busy stream's epoch, at 9 s");

    clock.set(TimeUnit.SECONDS.toNanos(12)); // quiet: 12 s since its last; busy: 3 s
    fanOut.tell(StreamFanOut.Heartbeat.INSTANCE);
    // fences: what each stream gets after the tick, through the topic, so after it
    publish(topics, other, 2);
    publish(topics, MARKET, 1);

    assertEquals("{\"type\":\"heartbeat\"}", next(quiet), "one heartbeat, at 12 s only");
    assertTrue(next(quiet).contains("\"epoch\":1"), "then its market's epoch: " + quiet);
    assertTrue(next(busy).contains("\"epoch\":2"), "no heartbeat for the busy stream");
    assertTrue(quiet.received().isEmpty() && busy.received().isEmpty(), "nothing else");
  }

  @Test
  void shouldDeliverEveryEpochToEveryStreamInOrderInShares() throws Exception {
    List<List<String>> paced =
        deliver(new StreamFanOut.Pacing(3, Duration.ofMillis(1)), 10, "paced");
    for (List<String> got : paced) {
      assertEquals(List.of("1", "2", "3"), got);
    }
    List<List<String>> unpaused = deliver(new StreamFanOut.Pacing(4, Duration.ZERO), 10, "shares");
    assertEquals(paced, unpaused);
    assertEquals(paced, deliver(StreamFanOut.Pacing.AT_ONCE, 10, "at-once"));
  }
}
