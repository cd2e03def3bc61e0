package io.surplus.feed.drive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.surplus.engine.GpuModel;
import io.surplus.engine.TimeInForce;
import io.surplus.feed.sim.DemandBid;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimeMappingTest {

  private static final Instant SIM0 = Instant.parse("2025-01-06T00:00:00Z");
  private static final Instant NOW = Instant.parse("2026-03-02T10:00:07.250Z");

  @Test
  void shouldStartTheSimulationOnTheFirstSlotBoundaryAtOrAfterNow() {
    TimeMapping m = TimeMapping.startingAt(SIM0, NOW, 60, 15);
    assertEquals(Instant.parse("2026-03-02T10:00:15Z"), m.realStart());
    assertEquals(
        Instant.parse("2026-03-02T10:00:15Z"),
        TimeMapping.startingAt(SIM0, Instant.parse("2026-03-02T10:00:15Z"), 60, 15).realStart());
  }

  @Test
  void shouldPutTheSimulatorsQuarterHoursOnTheMarketsSlotGrid() {
    TimeMapping m = TimeMapping.startingAt(SIM0, NOW, 60, 15);
    assertEquals(m.realStart(), m.toReal(SIM0));
    assertEquals(m.realStart().plusSeconds(15), m.toReal(SIM0.plusSeconds(900)));
    assertEquals(m.realStart().plusSeconds(60), m.toReal(SIM0.plusSeconds(3600)));
    // 7 simulated seconds are 116.67 real ms, rounded down.
    assertEquals(m.realStart().plusMillis(116), m.toReal(SIM0.plusSeconds(7)));
    assertEquals(SIM0.plusSeconds(3600), m.toSim(m.realStart().plusSeconds(60)));
  }

  @Test
  void shouldShrinkNoticeRoundingDownKeepingZeroAndNeverRoundingAnotherToZero() {
    TimeMapping m = TimeMapping.startingAt(SIM0, NOW, 60, 15);
    assertEquals(15, m.noticeSeconds(900));
    assertEquals(10, m.noticeSeconds(600));
    assertEquals(10, m.noticeSeconds(659));
    assertEquals(0, m.noticeSeconds(0));
    assertEquals(1, m.noticeSeconds(30));
    assertEquals(1, new TimeMapping(SIM0, NOW, 3600).noticeSeconds(600));
  }

  @Test
  void shouldShrinkBidDurationsToWholeMinutesOfAtLeastOne() {
    TimeMapping m = new TimeMapping(SIM0, NOW, 60);
    assertEquals(1, m.durationMinutes(15));
    assertEquals(1, m.durationMinutes(60));
    assertEquals(24, m.durationMinutes(1440));
    assertEquals(2, m.durationMinutes(90), "1.5 rounds half up");
  }

  @Test
  void shouldRefuseSpeedsItCannotMapWindowsAt() {
    assertThrows(IllegalArgumentException.class, () -> new TimeMapping(SIM0, NOW, 0));
    assertThrows(IllegalArgumentException.class, () -> new TimeMapping(SIM0, NOW, 100_000));
  }

  @Test
  void shouldKeepABidsShapeAndStretchItsLatestEndWhenTheRoundedDurationNoLongerFits() {
    TimeMapping m = TimeMapping.startingAt(SIM0, NOW, 60, 15);
    DemandBid sim =
        new DemandBid(
            new GpuModel("H100-SXM-80GB"),
            8,
            4,
            15,
            SIM0.plusSeconds(3600),
            SIM0.plusSeconds(3600 + 900),
            "2.10",
            TimeInForce.GTC);
    DemandBid real = DemandSchedule.toReal(sim, m, m.realStart().toEpochMilli(), 15);
    assertEquals(m.realStart().plusSeconds(60), real.earliestStart());
    assertEquals(1, real.durationMinutes());
    // 15 real seconds of room cannot hold one minute: the end moves out to fit it.
    assertEquals(m.realStart().plusSeconds(120), real.latestEnd());
    assertEquals("2.10", real.limitPrice());
    assertEquals(4, real.minNodes());
  }

  @Test
  void shouldMoveAPassedEarliestStartToTheNextSlotOrSkipABidThatNoLongerFits() {
    TimeMapping m = TimeMapping.startingAt(SIM0, NOW, 60, 15);
    DemandBid sim =
        new DemandBid(
            new GpuModel("H100-SXM-80GB"),
            1,
            1,
            60,
            SIM0,
            SIM0.plusSeconds(3 * 3600),
            "2.00",
            TimeInForce.IOC);
    long late = m.realStart().toEpochMilli() + 20_500;
    DemandBid real = DemandSchedule.toReal(sim, m, late, 15);
    assertEquals(m.realStart().plusSeconds(30), real.earliestStart());
    assertEquals(m.realStart().plusSeconds(180), real.latestEnd());
    assertNull(DemandSchedule.toReal(sim, m, m.realStart().toEpochMilli() + 150_000, 15));
  }
}
