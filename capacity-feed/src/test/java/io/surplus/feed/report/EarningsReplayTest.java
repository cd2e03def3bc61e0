package io.surplus.feed.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.feed.sim.DemandGenerator;
import io.surplus.feed.sim.SimConfig;
import io.surplus.feed.sim.SimEvent.Cause;
import io.surplus.feed.sim.SimResult;
import io.surplus.feed.sim.TrainingFleetSim;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real simulated fleet and demand for one seed, three days: deterministic and conserved. */
class EarningsReplayTest {

  private static final long SEED = 7;
  private static final int DAYS = 3;
  private static final SimConfig CONFIG = SimConfig.defaults().withDays(DAYS);

  private static EarningsReplay.Outcome first;
  private static EarningsReplay.Outcome second;

  @BeforeAll
  static void replayTwice() {
    first = replay();
    second = replay();
  }

  static EarningsReplay.Outcome replay() {
    SimResult sim = TrainingFleetSim.run(CONFIG, SEED);
    return EarningsReplay.run(
        CONFIG.fleet(),
        CONFIG.start(),
        DAYS,
        sim.events(),
        DemandGenerator.daily(DemandGenerator.Config.defaults(), SEED, CONFIG.start(), DAYS),
        SlotClock.DEFAULT,
        EarningsReplay.DEFAULT_EPOCH_SECONDS);
  }

  @Test
  void shouldGiveTheSameFiguresForTheSameSeed() {
    ReportPage.Run run = new ReportPage.Run(SEED, "default", CONFIG.start(), DAYS, 900);
    assertEquals(
        ReportPage.data(run, CONFIG.fleet(), first.ledger()),
        ReportPage.data(run, CONFIG.fleet(), second.ledger()));
    assertEquals(
        EarningsReport.summary(run, CONFIG.fleet(), first, 0),
        EarningsReport.summary(run, CONFIG.fleet(), second, 0));
  }

  @Test
  void shouldNeverSellMoreThanWasOfferedInAnyPoolDayOrCause() {
    Ledger l = first.ledger();
    for (int p = 0; p < l.pools(); p++) {
      for (int d = 0; d < DAYS; d++) {
        long offered = l.offeredNodeSeconds(p, d);
        long sold = l.soldNodeSeconds(p, d);
        assertTrue(sold <= offered, "pool " + p + " day " + d + ": sold " + sold + " > " + offered);
        assertEquals(offered, sold + l.idleNodeSeconds(p, d));
      }
      long byCause = 0;
      for (Cause c : Ledger.OFFER_CAUSES) {
        assertTrue(l.idleNodeSeconds(p, c) >= 0, "pool " + p + " " + c);
        byCause += l.offeredNodeSeconds(p, c);
      }
      assertEquals(l.offeredNodeSeconds(p), byCause);
    }
  }

  @Test
  void shouldSellSomethingInEveryPoolAndNeverBelowItsReserve() {
    Ledger l = first.ledger();
    for (int p = 0; p < l.pools(); p++) {
      long reserve = CONFIG.fleet().get(p).reservePrice();
      assertTrue(l.soldNodeSeconds(p) > 0, "pool " + p + " sold nothing");
      assertTrue(
          Ledger.averagePrice(l.grossRevenue(p), l.soldGpuSeconds(p)) >= reserve,
          "pool " + p + " below its reserve");
      assertTrue(l.noticeCredit(p) <= l.grossRevenue(p));
    }
    assertTrue(first.counts().bidsFilled > 0);
    long preempted = 0;
    for (int p = 0; p < l.pools(); p++) {
      preempted += l.preemptions(p, RevocationKind.PLANNED);
    }
    assertTrue(preempted > 0, "three days of spares called in cut no lease");
    for (long given : l.noticeGiven(RevocationKind.PLANNED)) {
      assertTrue(given >= l.noticePromisedMin(RevocationKind.PLANNED));
    }
  }
}
