package io.surplus.feed.drive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.surplus.feed.drive.FakeMarketplace.Applied;
import io.surplus.feed.drive.FakeMarketplace.BidCall;
import io.surplus.feed.drive.FakeMarketplace.Fault;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.Heartbeat;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import io.surplus.feed.sim.DemandBid;
import io.surplus.feed.sim.DemandGenerator;
import io.surplus.feed.sim.SimConfig;
import io.surplus.feed.sim.SimEvent;
import io.surplus.feed.sim.TrainingFleetSim;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FeedDriverTest {

  private static final String PROVIDER = "provider-key";
  private static final String BIDDER = "bidder-key";
  private static final long SEED = 7;
  private static final SimConfig ONE_DAY = SimConfig.defaults().withDays(1);
  private static final Duration TICK = Duration.ofMillis(100);

  private FakeMarketplace market;
  private FeedDriver driver;

  @BeforeEach
  void startMarket() throws Exception {
    market = new FakeMarketplace(PROVIDER, BIDDER);
  }

  @AfterEach
  void stopAll() {
    if (driver != null) {
      driver.close();
    }
    market.close();
  }

  private DriverConfig.Builder config(double speed) {
    return DriverConfig.builder(market.url(), PROVIDER)
        .seed(SEED)
        .speed(speed)
        .simConfig(ONE_DAY)
        .tick(TICK)
        .heartbeatEvery(Duration.ZERO)
        .backoff(Duration.ofMillis(50), Duration.ofMillis(100))
        .timeouts(Duration.ofSeconds(2), Duration.ofSeconds(3));
  }

  private FeedDriver start(DriverConfig config) {
    driver = new FeedDriver(config);
    driver.start();
    return driver;
  }

  /** The events the driver means to send, in order, as {@link #normal} forms. */
  private List<FeedEvent> expected(FeedDriver d) {
    return schedule(d).stream().map(e -> normal(e.event())).toList();
  }

  private List<FeedSchedule.Entry> schedule(FeedDriver d) {
    return FeedSchedule.build(
        TrainingFleetSim.run(d.config().simConfig(), SEED).events(),
        d.timeMapping(),
        d.windowIdPrefix(),
        (long) d.config().horizonSlots() * d.config().slotSeconds() * 1000,
        FeedDriver.PLANNED_SAFETY_MILLIS);
  }

  /** Without its sequence number, and a late planned revocation made emergency counts as sent. */
  private static FeedEvent normal(FeedEvent e) {
    FeedEvent one = FeedSchedule.withSeq(e, 1);
    return one instanceof WindowRevoked r ? FeedSchedule.asEmergency(r) : one;
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static void assertGapFree(List<Applied> applied, long first) {
    for (int i = 0; i < applied.size(); i++) {
      assertEquals(first + i, applied.get(i).seq(), "seq of applied event " + i);
    }
  }

  @Test
  void shouldDeliverEveryEventInOrderWithGapFreeSequencesNumberedOnFromTheServicePosition()
      throws Exception {
    market.setPosition(PROVIDER, 41);
    FeedDriver d = start(config(21_600).build());

    assertTrue(d.awaitFinished(Duration.ofSeconds(9)), () -> d.stats().statusLine());

    List<Applied> applied = market.applied();
    List<FeedEvent> expected = expected(d);
    assertEquals(96, expected.size(), "one simulated day of the default fleet, seed 7");
    assertEquals(expected, applied.stream().map(a -> normal(a.event())).toList());
    assertGapFree(applied, 42);
    DriverStats s = d.stats();
    assertEquals(expected.size(), s.eventsApplied());
    assertEquals(41 + expected.size(), s.lastApplied());
    assertEquals(0, s.eventsRejected() + s.eventsSkipped() + s.eventsPending());
    assertEquals(List.of(), market.refusals());
  }

  @Test
  void shouldResumeAfterA503AndDroppedConnectionsWithEveryEventAppliedExactlyOnce()
      throws Exception {
    market.failNextPositions(Fault.UNAVAILABLE, Fault.DROP_BEFORE_APPLYING);
    market.failNextFeedPosts(
        Fault.UNAVAILABLE, Fault.DROP_AFTER_APPLYING, Fault.DROP_BEFORE_APPLYING);
    FeedDriver d = start(config(7_200).build());

    await("25 events confirmed", Duration.ofSeconds(8), () -> d.stats().eventsApplied() >= 25);
    d.close();

    assertEquals(5, market.faultsServed());
    List<Applied> applied = market.applied();
    List<FeedEvent> expected = expected(d);
    assertEquals(
        expected.subList(0, applied.size()),
        applied.stream().map(a -> normal(a.event())).toList(),
        "every event once, in order, none lost");
    assertGapFree(applied, 1);
    DriverStats s = d.stats();
    // HttpClient itself retries a GET once when the connection drops, so that one may not show.
    assertTrue(s.errors() >= 4, s.statusLine());
    // close() may cut off a reply: the service can be ahead of what the driver saw confirmed.
    assertTrue(s.eventsApplied() >= 25 && s.eventsApplied() <= applied.size(), s.statusLine());
    assertEquals(List.of(), market.refusals());
  }

  @Test
  void shouldMapSimulatedInstantsToRealTimeAndDivideDurationsBySpeed() throws Exception {
    double speed = 300;
    Instant before = Instant.now();
    FeedDriver d = start(config(speed).bidderKey(BIDDER).build());
    await("a revocation", Duration.ofSeconds(8), () -> market.applied().size() >= 6);
    await("5 bids", Duration.ofSeconds(8), () -> market.bidCalls().size() >= 5);
    d.close();

    TimeMapping m = d.timeMapping();
    long real0 = m.realStart().toEpochMilli();
    assertEquals(3, d.config().slotSeconds(), "900 s / 300");
    assertEquals(0, real0 % 3000, "the simulation starts on a slot boundary");
    assertFalse(m.realStart().isBefore(before.minusMillis(1)));
    assertTrue(m.realStart().isBefore(before.plusSeconds(4)));
    Instant sim0 = ONE_DAY.start();

    Map<String, FeedEvent> simById = new HashMap<>();
    for (SimEvent e : TrainingFleetSim.run(ONE_DAY, SEED).events()) {
      if (e.event() instanceof WindowOpened o) {
        simById.put(o.windowId(), o);
      } else if (e.event() instanceof WindowRevoked r) {
        simById.putIfAbsent(r.windowId() + "@revoked", r);
      }
    }
    int opened = 0;
    int revoked = 0;
    for (Applied a : market.applied()) {
      if (a.event() instanceof WindowOpened o) {
        WindowOpened sim =
            (WindowOpened) simById.get(o.windowId().substring(d.windowIdPrefix().length()));
        assertNotNull(sim, o.windowId());
        assertEquals(real(real0, sim0, sim.start(), speed), o.start());
        assertEquals(real(real0, sim0, sim.end(), speed), o.end());
        assertEquals(sim.noticeSeconds() / 300, o.noticeSeconds(), "600 s -> 2 s, 900 s -> 3 s");
        assertEquals(sim.nodes(), o.nodes());
        assertEquals(sim.reservePrice(), o.reservePrice());
        opened++;
      } else if (a.event() instanceof WindowRevoked r) {
        WindowRevoked sim =
            (WindowRevoked)
                simById.get(r.windowId().substring(d.windowIdPrefix().length()) + "@revoked");
        assertEquals(real(real0, sim0, sim.at(), speed), r.at());
        assertEquals(sim.nodes(), r.nodes());
        revoked++;
      }
    }
    assertEquals(5, opened, "the five spare windows at the start");
    assertTrue(revoked >= 1);

    List<DemandGenerator.Arrival> day0 =
        DemandGenerator.generate(
            DemandGenerator.Config.defaults(),
            DemandGenerator.daySeed(SEED, 0),
            sim0,
            Duration.ofDays(1));
    JsonMapper json = JsonMapper.builder().build();
    for (BidCall call : market.bidCalls()) {
      int index = Integer.parseInt(call.idempotencyKey().substring(d.bidKeyPrefix().length()));
      DemandBid sim = day0.get(index).bid();
      JsonNode body = json.readTree(call.body());
      int minutes = (int) Math.max(1, Math.round(sim.durationMinutes() / speed));
      assertEquals(minutes, body.get("durationMinutes").asInt(), call.body());
      Instant earliest = real(real0, sim0, sim.earliestStart(), speed);
      assertEquals(earliest.toString(), body.get("earliestStart").asText(), call.body());
      Instant latest = real(real0, sim0, sim.latestEnd(), speed);
      Instant fits = earliest.plusSeconds(60L * minutes);
      assertEquals(
          (latest.isBefore(fits) ? fits : latest).toString(), body.get("latestEnd").asText());
      assertEquals(sim.limitPrice(), body.get("limitPrice").asText());
      assertEquals(sim.nodes(), body.get("nodes").asInt());
      assertEquals(sim.minNodes(), body.get("minNodes").asInt());
      assertEquals(sim.gpuModel().name(), body.get("gpuModel").asText());
      assertEquals(sim.timeInForce().name(), body.get("timeInForce").asText());
    }
  }

  /** realStart + (t - simStart) / speed, to the millisecond, computed apart from the driver. */
  private static Instant real(long real0, Instant sim0, Instant t, double speed) {
    long simMillis = Duration.between(sim0, t).toMillis();
    return Instant.ofEpochMilli(real0 + (long) Math.floor(simMillis / speed));
  }

  @Test
  void shouldNeverSendAnEventLongBeforeItsRealTimeExceptWindowsOpenedWithinTheHorizon()
      throws Exception {
    double speed = 3_600;
    FeedDriver d = start(config(speed).build());
    await("20 events applied", Duration.ofSeconds(8), () -> market.applied().size() >= 20);
    d.close();

    TimeMapping m = d.timeMapping();
    List<FeedSchedule.Entry> schedule = schedule(d);
    List<Applied> applied = market.applied();
    long tick = TICK.toMillis();
    long slack = 30;
    long horizon = 672L * d.config().slotSeconds() * 1000;
    Map<String, Integer> notice = new HashMap<>();
    Map<String, Long> openedDue = new HashMap<>();
    int early = 0;
    for (int i = 0; i < applied.size(); i++) {
      Applied a = applied.get(i);
      SimEvent source = schedule.get(i).source();
      assertEquals(normal(schedule.get(i).event()), normal(a.event()));
      long received = a.receivedAt().toEpochMilli();
      long simSend = m.toRealMillis(source.at());
      long earliestAllowed = simSend;
      if (a.event() instanceof WindowOpened o) {
        notice.put(o.windowId(), o.noticeSeconds());
        openedDue.put(o.windowId(), simSend);
        assertTrue(o.end().toEpochMilli() - received <= horizon, "within the horizon");
      } else if (a.event() instanceof WindowRevoked r
          && source.event() instanceof WindowRevoked simR
          && simR.kind() == io.surplus.engine.RevocationKind.PLANNED) {
        // A rounded-up notice (600 s / 3600 -> 1 s) is kept by sending earlier than the schedule.
        long keepsNotice =
            r.at().toEpochMilli()
                - notice.get(r.windowId()) * 1000L
                - FeedDriver.PLANNED_SAFETY_MILLIS;
        earliestAllowed = Math.min(simSend, keepsNotice);
        if (keepsNotice - tick >= openedDue.get(r.windowId())) {
          // There was time to keep the notice after the window opened: it must have been kept.
          assertEquals(simR.kind(), r.kind(), "kept its notice: " + r);
          early += keepsNotice < simSend ? 1 : 0;
        }
      }
      assertTrue(
          received >= earliestAllowed - tick - slack,
          "event " + i + " arrived " + (earliestAllowed - received) + " ms early: " + a.event());
      assertTrue(
          received <= Math.max(earliestAllowed, simSend) + 2_000,
          "event " + i + " arrived " + (received - simSend) + " ms late: " + a.event());
    }
    assertTrue(early > 0, "some planned revocation was sent early to keep its notice");
    assertEquals(List.of(), market.refusals(), "every planned revocation kept its notice");
  }

  @Test
  void shouldStopSendingWhenClosed() throws Exception {
    FeedDriver d = start(config(3_600).bidderKey(BIDDER).build());
    await("some events", Duration.ofSeconds(8), () -> market.applied().size() >= 5);

    long t0 = System.nanoTime();
    d.close();
    assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "close returns promptly");
    assertTrue(d.isClosed());
    assertFalse(d.isFinished());
    int requests = market.requests();
    Thread.sleep(600);
    assertEquals(requests, market.requests(), "no request after close");
    assertFalse(d.awaitFinished(Duration.ofMillis(10)));
  }

  @Test
  void shouldDropAWindowTheServiceRefusesWithItsLaterEventsAndRenumberTheRest() throws Exception {
    // fra-h100-a.w1 is revoked (a spare called in) five simulated minutes after it opens.
    market.refuseWindows(w -> w.windowId().endsWith("fra-h100-a.w1"));
    FeedDriver d = start(config(3_600).build());
    await("12 events applied", Duration.ofSeconds(8), () -> market.applied().size() >= 12);
    d.close();

    List<Applied> applied = market.applied();
    assertGapFree(applied, 1);
    assertTrue(
        applied.stream()
            .noneMatch(a -> FeedSchedule.windowId(a.event()).endsWith("fra-h100-a.w1")));
    List<FeedEvent> expected =
        expected(d).stream()
            .filter(e -> !FeedSchedule.windowId(e).endsWith("fra-h100-a.w1"))
            .toList();
    assertEquals(
        expected.subList(0, applied.size()), applied.stream().map(a -> normal(a.event())).toList());
    assertEquals(1, market.refusals().size(), "the revocation of the refused window is not sent");
    assertEquals(2, d.stats().eventsRejected(), "the opening and its revocation");
  }

  @Test
  void shouldPlaceEachBidOnceUnderItsOwnKeyAndRetryWithTheSameKeyAndBody() throws Exception {
    market.failNextBids(Fault.UNAVAILABLE, Fault.DROP_AFTER_APPLYING, Fault.DROP_BEFORE_APPLYING);
    FeedDriver d = start(config(7_200).bidderKey(BIDDER).build());
    await("15 bids created", Duration.ofSeconds(8), () -> created(market.bidCalls()).size() >= 15);
    d.close();

    List<BidCall> calls = market.bidCalls();
    List<String> created = created(calls);
    Set<String> distinct = new HashSet<>(created);
    assertEquals(created.size(), distinct.size(), "no key created twice");
    DriverStats s = d.stats();
    long previous = -1;
    for (String key : created) {
      assertTrue(key.startsWith(d.bidKeyPrefix()), key);
      long index = Long.parseLong(key.substring(d.bidKeyPrefix().length()));
      assertTrue(index > previous, "keys follow the demand in order: " + created);
      previous = index;
    }
    // A bid that no longer fits once the driver is back is skipped, never lost unaccounted.
    assertTrue(previous + 1 <= created.size() + s.bidsSkipped(), s.statusLine());
    assertTrue(calls.stream().noneMatch(c -> c.outcome().startsWith("conflict")));
    // The call whose reply was lost is retried under the same key and replayed.
    String lost =
        calls.stream()
            .filter(c -> c.outcome().equals("created, dropped"))
            .findFirst()
            .orElseThrow()
            .idempotencyKey();
    assertTrue(
        calls.stream()
            .anyMatch(c -> c.idempotencyKey().equals(lost) && c.outcome().equals("replayed")));
    assertEquals(3, market.faultsServed());
    assertTrue(s.bidsPlaced() >= created.size() - 1, s.statusLine());
    assertEquals(0, s.bidsRejected());
    assertTrue(s.errors() >= 3);
  }

  private static List<String> created(List<BidCall> calls) {
    return calls.stream()
        .filter(c -> c.outcome().startsWith("created"))
        .map(BidCall::idempotencyKey)
        .toList();
  }

  @Test
  void shouldSendHeartbeatsWhenTheFeedIsQuiet() throws Exception {
    // At speed 60 the simulation starts on the next 15-s slot boundary and then has two real
    // minutes with only one revocation: quiet, but for heartbeats.
    FeedDriver d = start(config(60).heartbeatEvery(Duration.ofMillis(300)).build());
    await(
        "two heartbeats",
        Duration.ofSeconds(5),
        () -> market.applied().stream().filter(a -> a.event() instanceof Heartbeat).count() >= 2);
    d.close();
    List<Applied> applied = market.applied();
    assertGapFree(applied, 1);
    for (Applied a : applied) {
      if (a.event() instanceof Heartbeat h) {
        long lag = a.receivedAt().toEpochMilli() - h.at().orElseThrow().toEpochMilli();
        assertTrue(lag >= -5 && lag < 1_000, "a heartbeat says when it was sent: " + lag);
      }
    }
  }
}
