package io.surplus.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.book.OrderBook;
import io.surplus.engine.book.RevocationPlan;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bad input is refused with an exception naming the value or a result code; the book is unchanged.
 */
class BadInputTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);

  static void assertRejected(String value, Runnable r) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    assertTrue(
        e.getMessage().contains(value), "message should name " + value + ": " + e.getMessage());
  }

  @Test
  void shouldRejectZeroNodes() {
    assertRejected("nodes=0", () -> BidSpec.gtc(1, 1, 0, 0, 4, S, S + 8, 2_000_000));
  }

  @Test
  void shouldRejectNegativeNodes() {
    assertRejected("nodes=-3", () -> BidSpec.gtc(1, 1, -3, 1, 4, S, S + 8, 2_000_000));
  }

  @Test
  void shouldRejectMinNodesAboveNodes() {
    assertRejected("minNodes=5", () -> BidSpec.gtc(1, 1, 4, 5, 4, S, S + 8, 2_000_000));
  }

  @Test
  void shouldRejectEndBeforeStart() {
    assertRejected("latestEnd=" + (S - 1), () -> BidSpec.gtc(1, 1, 4, 4, 1, S, S - 1, 2_000_000));
  }

  @Test
  void shouldRejectDurationLongerThanTheBidsWindow() {
    assertRejected("durationSlots=9", () -> BidSpec.gtc(1, 1, 4, 4, 9, S, S + 8, 2_000_000));
  }

  @Test
  void shouldRejectZeroOrNegativePrice() {
    assertRejected("limitPrice=0", () -> BidSpec.gtc(1, 1, 4, 4, 2, S, S + 8, 0));
    assertRejected("limitPrice=-5", () -> BidSpec.gtc(1, 1, 4, 4, 2, S, S + 8, -5));
  }

  @Test
  void shouldRejectPriceAboveTheCap() {
    assertRejected(
        "limitPrice=" + (Price.MAX_MICROS + 1),
        () -> BidSpec.gtc(1, 1, 4, 4, 2, S, S + 8, Price.MAX_MICROS + 1));
  }

  @Test
  void shouldRejectBadWindows() {
    assertRejected(
        "nodes=0", () -> new WindowSpec(1, 1, 0, 0, 0, 8, S, S + 4, 1_000_000, 300, 1_000_000));
    assertRejected(
        "endSlot=" + S, () -> new WindowSpec(1, 1, 0, 0, 4, 8, S, S, 1_000_000, 300, 1_000_000));
    assertRejected(
        "reservePrice=0", () -> new WindowSpec(1, 1, 0, 0, 4, 8, S, S + 4, 0, 300, 1_000_000));
    assertRejected(
        "region=64", () -> new WindowSpec(1, 1, 0, 64, 4, 8, S, S + 4, 1_000_000, 300, 1_000_000));
  }

  @Test
  void shouldRejectPricesWithTooManyDecimalsOrNotDecimal() {
    assertRejected("price=2.1234567", () -> Price.parse("2.1234567"));
    assertRejected("price=-1", () -> Price.parse("-1"));
    assertRejected("price=1e3", () -> Price.parse("1e3"));
    assertRejected("price=", () -> Price.parse(""));
    assertRejected("price=1000.000001", () -> Price.parse("1000.000001"));
    assertEquals(2_450_000, Price.parse("2.45"));
    assertEquals("2.45", Price.format(2_450_000));
    assertEquals("0.000001", Price.format(1));
  }

  @Test
  void shouldRefuseUnknownWindowOnRevokeAndLeaveTheBookUnchanged() {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);
    book.offer(new WindowSpec(1, 1, 0, 0, 4, 8, S, S + 8, 1_000_000, 300, 1_000_000), NOW);
    byte[] before = book.snapshot();
    assertEquals(
        ResultCode.UNKNOWN_WINDOW,
        book.revoke(99, 0, NOW + 3_600_000, RevocationKind.PLANNED, NOW).code());
    assertEquals(
        ResultCode.INVALID_REVOCATION,
        book.revoke(1, 4, NOW + 3_600_000, RevocationKind.PLANNED, NOW).code());
    assertEquals(
        ResultCode.INVALID_REVOCATION,
        book.revoke(1, -1, NOW + 3_600_000, RevocationKind.PLANNED, NOW).code());
    assertArrayEquals(before, book.snapshot());
  }

  @Test
  void shouldRefuseBidsInThePastBeyondTheHorizonOrDuplicated() {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);
    assertEquals(ResultCode.OK, book.place(BidSpec.gtc(1, 1, 2, 2, 2, S, S + 8, 2_000_000), NOW));
    byte[] before = book.snapshot();
    assertEquals(
        ResultCode.DUPLICATE_ID, book.place(BidSpec.gtc(1, 1, 3, 3, 2, S, S + 8, 2_000_000), NOW));
    assertEquals(
        ResultCode.IN_THE_PAST, book.place(BidSpec.gtc(2, 1, 2, 2, 2, S - 8, S, 2_000_000), NOW));
    assertEquals(
        ResultCode.BEYOND_HORIZON,
        book.place(BidSpec.gtc(3, 1, 2, 2, 2, S, S + CLOCK.horizonSlots() + 1, 2_000_000), NOW));
    assertEquals(
        ResultCode.TOO_LATE_TO_FIT,
        book.place(BidSpec.gtc(4, 1, 2, 2, 4, S - 6, S + 2, 2_000_000), NOW));
    assertEquals(
        ResultCode.BEYOND_HORIZON,
        book.checkPlace(
            BidSpec.gtc(5, 1, 2, 2, 2, S, S + CLOCK.horizonSlots() + 1, 2_000_000), NOW));
    assertEquals(
        ResultCode.OK, book.checkPlace(BidSpec.gtc(6, 1, 2, 2, 2, S, S + 8, 2_000_000), NOW));
    assertEquals(
        ResultCode.IN_THE_PAST,
        book.checkOffer(
            new WindowSpec(9, 1, 0, 0, 4, 8, S - 8, S, 1_000_000, 300, 1_000_000), NOW));
    assertEquals(ResultCode.UNKNOWN_BID, book.cancel(42));
    assertEquals(ResultCode.INVALID_AMENDMENT, book.amend(1, 3, 2_000_000, BidSpec.NO_EXPIRY));
    assertEquals(ResultCode.INVALID_AMENDMENT, book.amend(1, 0, 2_000_000, BidSpec.NO_EXPIRY));
    assertEquals(ResultCode.INVALID_AMENDMENT, book.amend(1, 2, 0, BidSpec.NO_EXPIRY));
    assertArrayEquals(before, book.snapshot());
  }

  @Test
  void shouldTakeARevocationFromAnInstantFarBeyondTheWindowAsRemovingNothing() {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);
    book.offer(new WindowSpec(1, 1, 0, 0, 4, 8, S, S + 8, 1_000_000, 300, 1_000_000), NOW);
    book.place(BidSpec.gtc(1, 1, 4, 4, 8, S, S + 8, 2_000_000), NOW);
    book.clear(NOW);
    byte[] before = book.snapshot();
    long year3100 = Instant.parse("3100-01-01T00:00:00Z").toEpochMilli();
    RevocationPlan far = book.revoke(1, 0, year3100, RevocationKind.EMERGENCY, NOW);
    assertEquals(ResultCode.OK, far.code());
    assertEquals(List.of(), far.cuts());
    assertEquals(
        ResultCode.OK, book.revoke(1, 1, Long.MAX_VALUE, RevocationKind.PLANNED, NOW).code());
    assertEquals(
        ResultCode.NOTICE_VIOLATION,
        book.revoke(1, 1, Long.MIN_VALUE, RevocationKind.PLANNED, NOW).code());
    assertArrayEquals(before, book.snapshot());
  }

  @Test
  void shouldRefuseInstantsOffTheSlotGridWithItsOwnErrorNamingTheValue() {
    SlotClock fifteenSeconds = new SlotClock(15, 672);
    long year3100 = Instant.parse("3100-01-01T00:00:00Z").toEpochMilli();
    long year500 = Instant.parse("0500-01-01T00:00:00Z").toEpochMilli();
    assertRejected("epochMillis=" + year3100, () -> fifteenSeconds.slotAtOrBefore(year3100));
    assertRejected("epochMillis=" + year500, () -> fifteenSeconds.slotAtOrAfter(year500));
    assertRejected(
        "instant=+1000000000-01-01T00:00:00Z",
        () -> CLOCK.slotAtOrAfter(Instant.parse("+1000000000-01-01T00:00:00Z")));
    assertTrue(!fifteenSeconds.covers(year3100) && CLOCK.covers(year3100));
    // the rounding is unchanged on the grid, on both sides of 1970
    assertEquals(1, CLOCK.slotAtOrAfter(1));
    assertEquals(0, CLOCK.slotAtOrAfter(0));
    assertEquals(0, CLOCK.slotAtOrAfter(-1));
    assertEquals(-1, CLOCK.slotAtOrBefore(-1));
    assertEquals(S, CLOCK.slotAtOrAfter(CLOCK.startMillis(S)));
    assertEquals(S + 1, CLOCK.slotAtOrAfter(CLOCK.startMillis(S) + 1));
  }

  @Test
  void shouldTakeOnlyInstantsWithAFourDigitYear() {
    assertEquals(Instant.parse("2026-11-02T00:00:00Z"), Instants.parse("2026-11-02T00:00:00Z"));
    assertEquals(Instants.LATEST, Instants.parse("9999-12-31T23:59:59.999999999Z"));
    assertEquals(Instants.EARLIEST, Instants.parse("0001-01-01T00:00:00Z"));
    assertEquals(null, Instants.parse("+1000000000-01-01T00:00:00Z"));
    assertEquals(null, Instants.parse("-1000000000-01-01T00:00:00Z"));
    assertEquals(null, Instants.parse("+10000-01-01T00:00:00Z"));
    assertEquals(null, Instants.parse("0000-12-31T23:59:59Z"));
    assertEquals(null, Instants.parse("tomorrow"));
    assertEquals(null, Instants.parse(null));
  }
}
