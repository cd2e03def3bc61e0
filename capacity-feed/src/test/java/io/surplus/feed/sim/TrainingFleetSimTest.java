package io.surplus.feed.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.surplus.engine.RevocationKind;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.FeedParser;
import io.surplus.feed.protocol.FeedWriter;
import io.surplus.feed.protocol.WindowExtended;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingFleetSimTest {

  /**
   * Tolerance for interruption counts: 4 Poisson standard deviations. Failures are a Poisson
   * process, so the count over the span is Poisson with mean {@code rate x healthy node-time}; a
   * correct simulator falls outside 4 sd with probability ~6e-5 per seed, while a rate off by 20%
   * (84 of 419, 4.1 sd) or counted per GPU instead of per node (8x) fails.
   */
  private static final double SIGMAS = 4.0;

  @Test
  void shouldGiveTheSameEventsForTheSameSeedAndConfig() {
    SimConfig config = SimConfig.defaults().withDays(10);
    SimResult a = TrainingFleetSim.run(config, 42);
    SimResult b = TrainingFleetSim.run(config, 42);
    assertEquals(a, b);
    assertFalse(a.events().isEmpty());
    assertNotEquals(a.events(), TrainingFleetSim.run(config, 43).events());
  }

  @Test
  void shouldInterruptTheReferenceFleetAtLlama3sUnexpectedRate() {
    SimConfig config = SimConfig.referenceFleet();
    // Failures strike healthy nodes only; ~0.15% of node-time is under repair, so the mean is
    // 419 x 0.9985 = 418.4, well inside the tolerance of 419's.
    assertEquals(419.0, config.expectedUnexpected(), 1e-9);
    SimResult r = TrainingFleetSim.run(config, 7);
    assertWithinPoisson(r.unexpectedInterruptions(), 419.0);
    assertWithinPoisson(r.plannedInterruptions(), 47.0);
  }

  @Test
  void shouldMatchTheRateOverManySeedsWithinATighterRelativeBound() {
    SimConfig config = SimConfig.referenceFleet();
    long unexpected = 0;
    long planned = 0;
    int seeds = 8;
    for (int seed = 100; seed < 100 + seeds; seed++) {
      SimResult r = TrainingFleetSim.run(config, seed);
      unexpected += r.unexpectedInterruptions();
      planned += r.plannedInterruptions();
    }
    // Sums of independent Poisson counts are Poisson: 3,352 +/- 232 (6.9%).
    assertWithinPoisson(unexpected, 419.0 * seeds);
    assertWithinPoisson(planned, 47.0 * seeds);
  }

  @Test
  void shouldScaleTheRateToTheFleetAndTheSpan() {
    SimConfig config = SimConfig.defaults().withDays(27);
    double expected = 419.0 * config.fleetNodes() / 2048.0 * 27 / 54;
    assertEquals(expected, config.expectedUnexpected(), 1e-9);
    assertWithinPoisson(TrainingFleetSim.run(config, 3).unexpectedInterruptions(), expected);
  }

  private static void assertWithinPoisson(long seen, double mean) {
    double tolerance = SIGMAS * Math.sqrt(mean);
    assertTrue(
        Math.abs(seen - mean) <= tolerance,
        () -> "seen " + seen + ", expected " + mean + " +/- " + tolerance);
  }

  @Test
  void shouldKeepTheFeedRulesOnTheReferenceFleet() {
    checkFeed(TrainingFleetSim.run(SimConfig.referenceFleet(), 7));
  }

  @Test
  void shouldKeepTheFeedRulesOnTheDefaultFleet() {
    checkFeed(TrainingFleetSim.run(SimConfig.defaults().withDays(30), 11));
  }

  /** A node's time in one window: {@code [from, to)}. */
  private record Stint(long from, long to, String windowId) {}

  /** The simulator's view of one window while replaying the feed. */
  private static final class Open {
    final WindowOpened opened;
    final Map<Integer, Long> leaves = new HashMap<>();
    Instant end;

    Open(WindowOpened opened) {
      this.opened = opened;
      this.end = opened.end();
    }

    int kept() {
      return opened.nodes() - leaves.size();
    }
  }

  /**
   * Replays the feed and checks: time order; per provider, sequence numbers 1, 2, 3...; every line
   * valid for the parser; revocations and extensions only of windows opened before, at an instant
   * inside the window, of nodes it still holds; planned revocations sent with at least the window's
   * notice; and no node in two windows at once.
   */
  private static void checkFeed(SimResult r) {
    FeedParser parser = new FeedParser();
    Map<String, Long> lastSeq = new HashMap<>();
    Map<String, Open> windows = new HashMap<>();
    Instant previous = Instant.MIN;
    int revocations = 0;
    for (SimEvent e : r.events()) {
      assertFalse(e.at().isBefore(previous), "events in time order");
      previous = e.at();
      FeedEvent event = e.event();
      assertEquals(lastSeq.getOrDefault(e.provider(), 0L) + 1, event.seq(), "seq of " + e);
      lastSeq.put(e.provider(), event.seq());
      assertEquals(event, parser.parse(FeedWriter.toJson(event), 1), "valid line");
      String key = e.provider() + "/" + windowId(event);
      if (event instanceof WindowOpened o) {
        assertTrue(windows.put(key, new Open(o)) == null, "window ids unique per provider");
        assertEquals(o.nodes(), e.nodes().size());
        assertFalse(o.start().isBefore(e.at()), "opened no later than it starts");
        continue;
      }
      Open w = windows.get(key);
      if (w == null) {
        fail("names a window never opened: " + e);
      }
      if (event instanceof WindowExtended x) {
        assertTrue(x.end().isAfter(w.end), "extends to a later end");
        assertTrue(e.at().isBefore(w.end), "extends before the end");
        w.end = x.end();
      } else if (event instanceof WindowRevoked v) {
        revocations++;
        assertFalse(v.at().isBefore(w.opened.start()), "at >= start: " + e);
        assertTrue(v.at().isBefore(w.end), "at < end: " + e);
        assertTrue(w.kept() > 0, "revokes a window with nodes left: " + e);
        if (v.kind() == RevocationKind.PLANNED) {
          long notice = Duration.between(e.at(), v.at()).toSeconds();
          assertTrue(notice >= w.opened.noticeSeconds(), "planned revocation keeps notice: " + e);
        } else {
          assertEquals(
              e.at().isBefore(w.opened.start()) ? w.opened.start() : e.at(),
              v.at(),
              "an emergency takes effect at once");
        }
        if (v.nodes().isPresent()) {
          assertEquals(v.nodes().getAsInt(), e.nodes().size());
          for (int node : e.nodes()) {
            assertTrue(w.opened.nodes() > 0 && !w.leaves.containsKey(node), "node still held");
            w.leaves.put(node, v.at().getEpochSecond());
          }
        } else {
          w.end = v.end().orElseThrow();
        }
      }
    }
    assertTrue(revocations > 0, "some revocations happened");

    Map<String, List<Stint>> stints = new HashMap<>();
    for (SimEvent e : r.events()) {
      if (e.event() instanceof WindowOpened o) {
        Open w = windows.get(e.provider() + "/" + o.windowId());
        for (int node : e.nodes()) {
          long from = o.start().getEpochSecond();
          long to = Math.min(w.end.getEpochSecond(), w.leaves.getOrDefault(node, Long.MAX_VALUE));
          if (to > from) {
            stints
                .computeIfAbsent(e.provider() + "#" + node, k -> new ArrayList<>())
                .add(new Stint(from, to, o.windowId()));
          }
        }
      }
    }
    assertFalse(stints.isEmpty());
    for (Map.Entry<String, List<Stint>> node : stints.entrySet()) {
      List<Stint> s = new ArrayList<>(node.getValue());
      s.sort((a, b) -> Long.compare(a.from(), b.from()));
      for (int i = 1; i < s.size(); i++) {
        Stint a = s.get(i - 1);
        Stint b = s.get(i);
        if (b.from() < a.to()) {
          fail("node " + node.getKey() + " in two windows at once: " + a + " and " + b);
        }
      }
    }
  }

  private static String windowId(FeedEvent event) {
    if (event instanceof WindowOpened o) {
      return o.windowId();
    }
    if (event instanceof WindowExtended x) {
      return x.windowId();
    }
    if (event instanceof WindowRevoked v) {
      return v.windowId();
    }
    return "";
  }

  @Test
  void shouldEmitEveryKindOfEventAndCause() {
    SimResult r = TrainingFleetSim.run(SimConfig.defaults(), 7);
    for (SimEvent.Cause cause : SimEvent.Cause.values()) {
      assertTrue(r.events().stream().anyMatch(e -> e.cause() == cause), "some " + cause);
    }
  }

  @Test
  void shouldAccountForEveryNodeHour() {
    SimResult r = TrainingFleetSim.run(SimConfig.referenceFleet(), 7);
    assertEquals(2048L * 54 * 86_400, r.nodeSeconds());
    assertTrue(r.idleNodeSeconds() >= 0, "idle >= 0");
    assertTrue(r.trainingNodeSeconds() > 0.8 * r.nodeSeconds(), "mostly training");
    assertTrue(r.offeredNodeSeconds() > 0.05 * r.nodeSeconds(), "a real surplus is offered");
    long windowNodeSeconds =
        r.windows().stream().mapToLong(w -> w.nodes() * w.lengthSeconds()).sum();
    assertTrue(r.offeredNodeSeconds() <= windowNodeSeconds, "revocations only shrink windows");
  }

  @Test
  void shouldTakeTheRepairTimeFromTheConfiguredDistribution() {
    SimConfig quick =
        SimConfig.referenceFleet().withRepairTime(new RepairTime.Fixed(Duration.ofHours(1)));
    SimConfig slow =
        SimConfig.referenceFleet().withRepairTime(new RepairTime.Fixed(Duration.ofHours(48)));
    SimResult q = TrainingFleetSim.run(quick, 5);
    SimResult s = TrainingFleetSim.run(slow, 5);
    long maintenanceMax =
        q.plannedInterruptions() * SimConfig.DEFAULT_MAINTENANCE_NODES * 6 * 3600L;
    // Every failure is down exactly an hour, except one cut short by the end of the span.
    assertTrue(q.downNodeSeconds() >= (q.unexpectedInterruptions() - 1) * 3600L);
    assertTrue(q.downNodeSeconds() <= q.unexpectedInterruptions() * 3600L + maintenanceMax);
    // Only failures in the last two days are cut short by the end of the 54-day span.
    assertTrue(
        s.downNodeSeconds() >= 0.9 * s.unexpectedInterruptions() * 48 * 3600L,
        "48 h repairs keep each failed node down 48 h");
  }
}
