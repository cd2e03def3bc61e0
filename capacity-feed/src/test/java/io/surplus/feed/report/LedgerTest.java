package io.surplus.feed.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.surplus.engine.Price;
import io.surplus.engine.RevocationKind;
import io.surplus.feed.sim.SimEvent.Cause;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class LedgerTest {

  /** Slot 96 starts 1970-01-02, a UTC midnight, with 15-minute slots. */
  private static final int DAY_ONE = 96;

  @Test
  void shouldSplitALeaseAcrossMidnightAndLeaveOutWhatLiesOutsideTheSpan() {
    Ledger l = new Ledger(1, DAY_ONE, 2, 900);
    // 2 nodes from 23:00 on day 0 to 01:00 on day 1 -> 4 slots each day
    l.sold(0, Cause.SPARES, DAY_ONE + 92, DAY_ONE + 100, 2, 8, Price.parse("2.00"));
    // before the span and after it: nothing
    l.sold(0, Cause.SPARES, DAY_ONE - 4, DAY_ONE, 2, 8, Price.parse("2.00"));
    l.sold(0, Cause.SPARES, DAY_ONE + 192, DAY_ONE + 196, 2, 8, Price.parse("2.00"));
    assertEquals(2 * 3600, l.soldNodeSeconds(0, 0));
    assertEquals(2 * 3600, l.soldNodeSeconds(0, 1));
    // 4 node-hours x 8 GPUs x 2.00
    assertEquals(new BigDecimal("64.00"), Ledger.dollars(l.grossRevenue(0)));
  }

  @Test
  void shouldCountRevokedLeaseTimeByKindAndDay() {
    Ledger l = new Ledger(1, DAY_ONE, 2, 900);
    l.revoked(0, RevocationKind.EMERGENCY, DAY_ONE + 95, DAY_ONE + 97, 3);
    assertEquals(3 * 900, l.revokedNodeSeconds(0, 0, RevocationKind.EMERGENCY));
    assertEquals(3 * 900, l.revokedNodeSeconds(0, 1, RevocationKind.EMERGENCY));
    assertEquals(0, l.revokedNodeSeconds(0, RevocationKind.PLANNED));
  }

  @Test
  void shouldRoundDollarsOnlyAtTheEndAndHalfEven() {
    // 1 micro-dollar per GPU-hour for 1,800 GPU-seconds: half a micro-dollar
    assertEquals(new BigDecimal("0.00"), Ledger.dollars(1_800));
    assertEquals(new BigDecimal("0.01"), Ledger.dollars(3_600L * 5_001));
    assertEquals(1_500_000, Ledger.averagePrice(1_500_000L * 7_200, 7_200));
  }

  @Test
  void shouldRefuseASpanThatDoesNotStartAtMidnight() {
    assertThrows(IllegalArgumentException.class, () -> new Ledger(1, DAY_ONE + 1, 1, 900));
  }
}
