package io.surplus.feed.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.surplus.engine.GpuModel;
import io.surplus.engine.Price;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.WindowExtended;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import io.surplus.feed.sim.DemandBid;
import io.surplus.feed.sim.DemandGenerator.Arrival;
import io.surplus.feed.sim.PoolSpec;
import io.surplus.feed.sim.SimEvent;
import io.surplus.feed.sim.SimEvent.Cause;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The report's figures for a fleet small enough to work out by hand, fed through the same replay as
 * {@code ./surplus report}. One pool "tiny" of 8 H100 nodes, reserve 1.00, one day from
 * 2025-01-06T00:00Z, 15-minute slots, an epoch every slot. Times below are of that day.
 *
 * <pre>
 * feed
 *   00:00  w1 opened: 4 nodes [01:00, 03:00), checkpoint-eval gap, notice 900 s
 *   00:00  w2 opened: 2 nodes [02:00, 04:00), spares, notice 600 s
 *   01:00  w1 revoked planned: 2 nodes from 01:30 (1,800 s ahead, notice 900 s kept)
 *   01:45  w2 extended to 04:30
 *   02:30  w2 revoked emergency: 1 node from 02:30 (no notice at all)
 * demand
 *   00:00  b1: 4 nodes (all), 60 min in [01:00, 02:00), limit 2.00
 *   00:00  b2: 2 nodes (all), 60 min in [02:00, 03:00), limit 1.50
 *   00:00  b3: 1 node, 60 min in [01:00, 04:00), limit 0.50 (below the reserve: never fills)
 *   01:10  b4: 2 nodes (all), 30 min in [01:30, 03:00), limit 3.00
 *
 * epoch 00:00: b1 (2.00) first: the only window at 01:00 is w1 -> lease 4 nodes [01:00, 02:00).
 *   b2 (1.50): both windows hold it at 02:00; best fit is w2 (0 nodes left, against w1's 2)
 *   -> lease 2 nodes [02:00, 03:00). The uniform price is the lowest limit filled, 1.50, above
 *   the reserve: both leases pay 1.50.
 * 01:00: w1 keeps 2 nodes from 01:30: b1's lease no longer fits and is cut to [01:00, 01:30);
 *   notice given 01:30 - 01:00 = 1,800 s, promised 900 s.
 * epoch 01:15: b4 alone fills, in w1 at 01:30 (the earliest start; w2 starts at 02:00)
 *   -> lease 2 nodes [01:30, 02:00) at its own limit, 3.00.
 * 02:30: w2 keeps 1 node from 02:30: b2's lease is cut to [02:00, 02:30); notice given 0 s,
 *   owed 600 s: the bidder is not charged 600 s of 2 nodes x 8 GPUs at 1.50 = 4.00 USD.
 *
 * offered (node-slots of 15 min): w1 4 x 2 slots + 2 x 6 slots = 20 (5 node-hours)
 *                                 w2 2 x 2 slots + 1 x 8 slots = 12 (3 node-hours); total 8 h
 * sold: b1 4 x 2 slots = 8 (2 h), b4 2 x 2 = 4 (1 h), b2 2 x 2 = 4 (1 h); total 4 h, 50%
 * idle by cause: gap 5 - 3 = 2 h, spares 3 - 1 = 2 h, staging 0
 * revoked from leases: planned b1 4 x 2 slots = 2 h; emergency b2 2 x 2 slots = 1 h
 * revenue: b1 2 h x 8 GPUs x 1.50 = 24.00, b2 1 x 8 x 1.50 = 12.00, b4 1 x 8 x 3.00 = 24.00;
 *   gross 60.00, credit 4.00, net 56.00; average price 60.00 / 32 GPU-hours = 1.875
 * </pre>
 */
class HandComputedFleetTest {

  private static final Instant DAY = Instant.parse("2025-01-06T00:00:00Z");
  private static final PoolSpec TINY = PoolSpec.of("tiny", "H100-SXM-80GB", "us-east", 8, "1.00");
  private static final GpuModel H100 = TINY.gpuModel();
  private static final long HOUR = 3600;

  private static EarningsReplay.Outcome outcome;
  private static Ledger ledger;

  @BeforeAll
  static void replay() {
    List<SimEvent> feed =
        List.of(
            event("00:00", Cause.CHECKPOINT_EVAL_GAP, opened(1, "w1", 4, "01:00", "03:00", 900)),
            event("00:00", Cause.SPARES, opened(2, "w2", 2, "02:00", "04:00", 600)),
            event(
                "01:00",
                Cause.MAINTENANCE,
                WindowRevoked.nodes(3, "w1", RevocationKind.PLANNED, at("01:30"), 2)),
            event("01:45", Cause.STAGING_OVERRAN, new WindowExtended(4, "w2", at("04:30"))),
            event(
                "02:30",
                Cause.NODE_FAILURE,
                WindowRevoked.nodes(5, "w2", RevocationKind.EMERGENCY, at("02:30"), 1)));
    List<Arrival> demand =
        List.of(
            bid("00:00", 4, 60, "01:00", "02:00", "2.00"),
            bid("00:00", 2, 60, "02:00", "03:00", "1.50"),
            bid("00:00", 1, 60, "01:00", "04:00", "0.50"),
            bid("01:10", 2, 30, "01:30", "03:00", "3.00"));
    outcome =
        EarningsReplay.run(List.of(TINY), DAY, 1, feed, demand.iterator(), SlotClock.DEFAULT, 900);
    ledger = outcome.ledger();
  }

  @Test
  void shouldOfferEightNodeHoursAfterTheRevocationsAndTheExtension() {
    assertEquals(8 * HOUR, ledger.offeredNodeSeconds(0, 0));
    assertEquals(5 * HOUR, ledger.offeredNodeSeconds(0, Cause.CHECKPOINT_EVAL_GAP));
    assertEquals(3 * HOUR, ledger.offeredNodeSeconds(0, Cause.SPARES));
  }

  @Test
  void shouldSellHalfOfItAndLeaveTwoHoursIdleInEachCause() {
    assertEquals(4 * HOUR, ledger.soldNodeSeconds(0, 0));
    assertEquals(4 * HOUR, ledger.idleNodeSeconds(0, 0));
    assertEquals(2 * HOUR, ledger.idleNodeSeconds(0, Cause.CHECKPOINT_EVAL_GAP));
    assertEquals(2 * HOUR, ledger.idleNodeSeconds(0, Cause.SPARES));
    assertEquals(0, ledger.idleNodeSeconds(0, Cause.STAGING));
  }

  @Test
  void shouldCountTheLeaseTimeEachRevocationTookBack() {
    assertEquals(2 * HOUR, ledger.revokedNodeSeconds(0, 0, RevocationKind.PLANNED));
    assertEquals(1 * HOUR, ledger.revokedNodeSeconds(0, 0, RevocationKind.EMERGENCY));
  }

  @Test
  void shouldEarnSixtyDollarsLessAFourDollarNoticeCredit() {
    assertEquals(new BigDecimal("60.00"), Ledger.dollars(ledger.grossRevenue(0)));
    assertEquals(new BigDecimal("4.00"), Ledger.dollars(ledger.noticeCredit(0)));
    assertEquals(32 * HOUR, ledger.soldGpuSeconds(0));
    assertEquals(
        Price.parse("1.875"),
        Ledger.averagePrice(ledger.grossRevenue(0), ledger.soldGpuSeconds(0)));
  }

  @Test
  void shouldReportEachPreemptionWithTheNoticeItGotAndWasPromised() {
    assertEquals(1, ledger.preemptions(0, RevocationKind.PLANNED));
    assertEquals(4, ledger.preemptedNodes(0, RevocationKind.PLANNED));
    assertArrayEquals(new long[] {1800}, ledger.noticeGiven(RevocationKind.PLANNED));
    assertEquals(900, ledger.noticePromisedMin(RevocationKind.PLANNED));
    assertEquals(0, ledger.noticeShortfallSeconds(RevocationKind.PLANNED));
    assertEquals(1, ledger.preemptions(0, RevocationKind.EMERGENCY));
    assertEquals(2, ledger.preemptedNodes(0, RevocationKind.EMERGENCY));
    assertArrayEquals(new long[] {0}, ledger.noticeGiven(RevocationKind.EMERGENCY));
    assertEquals(600, ledger.noticePromisedMin(RevocationKind.EMERGENCY));
    assertEquals(600, ledger.noticeShortfallSeconds(RevocationKind.EMERGENCY));
  }

  @Test
  void shouldPlaceEveryBidAndFillThreeOfThem() {
    EarningsReplay.Counts c = outcome.counts();
    assertEquals(4, c.bidsArrived);
    assertEquals(4, c.bidsPlaced);
    assertEquals(3, c.bidsFilled);
    assertEquals(3, c.leases);
    assertEquals(2, c.windowsOffered);
    assertEquals(1, c.extensionsApplied);
    assertEquals(2, c.revocationsApplied);
    assertEquals(96, c.epochs);
    assertEquals(java.util.Map.of(), c.refused);
  }

  private static Instant at(String hhmm) {
    return Instant.parse("2025-01-06T" + hhmm + ":00Z");
  }

  private static SimEvent event(String hhmm, Cause cause, FeedEvent e) {
    return new SimEvent(at(hhmm), TINY.name(), e, cause, List.of());
  }

  private static WindowOpened opened(
      long seq, String id, int nodes, String start, String end, int notice) {
    return new WindowOpened(
        seq,
        id,
        H100,
        TINY.name(),
        TINY.region(),
        nodes,
        8,
        at(start),
        at(end),
        TINY.reservePrice(),
        notice,
        OptionalInt.empty());
  }

  private static Arrival bid(
      String arrives, int nodes, int minutes, String earliest, String latest, String limit) {
    return new Arrival(
        at(arrives),
        new DemandBid(
            H100, nodes, nodes, minutes, at(earliest), at(latest), limit, TimeInForce.GTC));
  }
}
