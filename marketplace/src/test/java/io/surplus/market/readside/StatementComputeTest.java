package io.surplus.market.readside;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Statement#compute} on a small fleet worked out by hand, across a UTC midnight. */
class StatementComputeTest {

  static final LocalDate D1 = LocalDate.parse("2026-11-20");
  static final LocalDate D2 = D1.plusDays(1);

  static Instant at(String t) {
    return Instant.parse(t);
  }

  // pool a: 4 nodes of 8 GPUs from 22:00 on the 20th to 04:00 on the 21st (6 h), reserve $1.00;
  // 3 nodes revoked from 02:00 (keep 1). Pool b: 2 nodes, 10:00-12:00 on the 21st, reserve $3.00.
  static final Statement.Window A =
      new Statement.Window(
          "H100", 1, "a", 4, 8, at("2026-11-20T22:00:00Z"), at("2026-11-21T04:00:00Z"), 1_000_000);
  static final Statement.Window B =
      new Statement.Window(
          "H100", 2, "b", 2, 8, at("2026-11-21T10:00:00Z"), at("2026-11-21T12:00:00Z"), 3_000_000);
  static final Statement.Revocation CUT =
      new Statement.Revocation("H100", 1, at("2026-11-21T02:00:00Z"), 1);
  // lease 1: 2 nodes of a, 23:00-03:00 at $2.00, cut at 02:00 with 1,800 s of notice owed and not
  // given; lease 2: 1 node of b, 10:00-11:00 at $3.50
  static final Statement.Lease L1 =
      new Statement.Lease(
          "H100",
          1,
          11,
          2,
          8,
          at("2026-11-20T23:00:00Z"),
          at("2026-11-21T03:00:00Z"),
          2_000_000,
          at("2026-11-21T02:00:00Z"),
          1_800);
  static final Statement.Lease L2 =
      new Statement.Lease(
          "H100",
          2,
          12,
          1,
          8,
          at("2026-11-21T10:00:00Z"),
          at("2026-11-21T11:00:00Z"),
          3_500_000,
          null,
          0);

  @Test
  void shouldSplitEveryFigureByPoolAndDayAsWorkedOutByHand() {
    Statement.Result r =
        Statement.compute(List.of(A, B), List.of(CUT), List.of(L1, L2), D1, D2.plusDays(1), null);
    assertEquals(3, r.days().size(), r.days().toString());

    // a on the 20th (22:00-24:00): offered 4 x 2 h; nothing revoked; sold 2 nodes x 1 h
    // (23:00-24:00) = 2, billed 2 x 8 GPUs x 1 h x $2 = $32; idle 8 - 2 = 6
    Statement.Line a1 = r.days().get(0);
    assertEquals("a", a1.pool());
    assertEquals(D1, a1.day());
    assertEquals(8 * 3600, a1.offeredNodeSeconds());
    assertEquals(0, a1.revokedNodeSeconds());
    assertEquals(2 * 3600, a1.soldNodeSeconds());
    assertEquals(6 * 3600, a1.idleNodeSeconds());
    assertEquals(32_000_000, a1.revenueMicros());
    assertEquals(0, a1.preemptions());

    // a on the 21st (00:00-04:00): offered 4 x 4 h = 16; revoked 3 nodes x 2 h (02:00-04:00) = 6;
    // held 2 nodes x 2 h (00:00-02:00) = 4; idle 16 - 6 - 4 = 6. Billed up to the preemption less
    // the 30 min owed: 00:00-01:30, 2 x 8 x 1.5 h x $2 = $48; refunded 01:30-02:00, $16.
    Statement.Line a2 = r.days().get(1);
    assertEquals("a", a2.pool());
    assertEquals(D2, a2.day());
    assertEquals(16 * 3600, a2.offeredNodeSeconds());
    assertEquals(6 * 3600, a2.revokedNodeSeconds());
    assertEquals(4 * 3600, a2.soldNodeSeconds());
    assertEquals(6 * 3600, a2.idleNodeSeconds());
    assertEquals(48_000_000, a2.revenueMicros());
    assertEquals(16_000_000, a2.refundMicros());
    assertEquals(1, a2.preemptions());
    assertEquals(0.4, a2.sellThrough(), 1e-12); // 4 / (16 - 6)

    // b on the 21st: offered 2 x 2 h = 4; sold 1 x 1 h; 8 GPU-hours at $3.50 = $28
    Statement.Line b2 = r.days().get(2);
    assertEquals("b", b2.pool());
    assertEquals(4 * 3600, b2.offeredNodeSeconds());
    assertEquals(3600, b2.soldNodeSeconds());
    assertEquals(3 * 3600, b2.idleNodeSeconds());
    assertEquals(28_000_000, b2.revenueMicros());
    assertEquals(3_500_000, b2.averagePriceMicros());
    assertEquals(3_000_000, b2.averageReserveMicros());

    // totals per pool: a over both days
    Statement.Line a = r.totals().get(0);
    assertEquals("a", a.pool());
    assertEquals(null, a.day());
    assertEquals(24 * 3600, a.offeredNodeSeconds());
    assertEquals(6 * 3600, a.soldNodeSeconds());
    assertEquals(80_000_000, a.revenueMicros());
    assertEquals(16_000_000, a.refundMicros());
    assertEquals(2_000_000, a.averagePriceMicros());
    assertEquals(1_000_000, a.averageReserveMicros());
    assertEquals(2, r.totals().size());
  }

  @Test
  void shouldKeepToTheAskedDaysAndPool() {
    Statement.Result r =
        Statement.compute(List.of(A, B), List.of(CUT), List.of(L1, L2), D2, D2.plusDays(1), "b");
    assertEquals(1, r.days().size(), r.days().toString());
    assertEquals("b", r.days().get(0).pool());
    assertEquals(1, r.totals().size());
    Statement.Result none =
        Statement.compute(List.of(A, B), List.of(CUT), List.of(L1, L2), D1.minusDays(5), D1, null);
    assertEquals(List.of(), none.days());
    assertEquals(List.of(), none.totals());
  }
}
