package io.surplus.engine.whatif;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.Price;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.engine.book.EpochResult;
import io.surplus.engine.book.OrderBook;

/**
 * What the next epoch of a book would do with one more bid, worked out by the clearing itself on
 * copies of the book, so the answer is the engine's, never a second matcher's: the bid is placed on
 * a copy ({@link OrderBook#copy()}) as the latest arrival, the copy clears, and the bid's lease or
 * reason is read off the result. The book passed in is never changed.
 *
 * <p>When the bid would stay open, two more questions are answered the same way: the lowest limit
 * at which it would fill now (a search over limits, to the cent, each probe one clearing of a
 * copy), and the earliest start it would get at its own limit if it let its window run to the end
 * of the horizon.
 */
public final class Quote {

  /**
   * A quote.
   *
   * @param refused why the bid could not even be placed ({@link ResultCode#OK} when it could)
   * @param lease the lease the next epoch would make, or null
   * @param reason why it would stay open (null when it fills or was refused)
   * @param lowestFillingLimit the lowest limit (micro-dollars, a whole cent) at which it would fill
   *     now; -1 when it fills as it is, or at no limit up to {@link Price#MAX_MICROS}
   * @param earliestStartAtLimit the slot it would start in at its own limit with its latest end
   *     moved to the horizon; -1 when it fills as it is, or would not then either
   */
  public record Result(
      ResultCode refused,
      Lease lease,
      Reason reason,
      long lowestFillingLimit,
      int earliestStartAtLimit) {

    public boolean fills() {
      return lease != null;
    }
  }

  /** One cent in micro-dollars: the step of the limit search. */
  static final long CENT = Price.MICROS_PER_DOLLAR / 100;

  private Quote() {}

  /** The quote for {@code bid} against {@code book} at {@code nowMillis}. */
  public static Result of(OrderBook book, BidSpec bid, long nowMillis) {
    ResultCode rc = book.checkPlace(bid, nowMillis);
    if (rc != ResultCode.OK) {
      return new Result(rc, null, null, -1, -1);
    }
    Probe asIs = probe(book, bid, nowMillis);
    if (asIs.lease != null) {
      return new Result(ResultCode.OK, asIs.lease, null, -1, -1);
    }
    return new Result(
        ResultCode.OK,
        null,
        asIs.reason,
        lowestFillingLimit(book, bid, nowMillis),
        earliestStartAtLimit(book, bid, nowMillis));
  }

  /** What one clearing of a copy does with the bid. */
  private record Probe(Lease lease, Reason reason) {}

  private static Probe probe(OrderBook book, BidSpec bid, long nowMillis) {
    OrderBook copy = book.copy();
    if (copy.place(bid, nowMillis) != ResultCode.OK) {
      return new Probe(null, null);
    }
    EpochResult result = copy.clear(nowMillis);
    for (Lease l : result.leases()) {
      if (l.bidId() == bid.id()) {
        return new Probe(l, null);
      }
    }
    Reason reason = copy.reason(bid.id()); // a GTC bid stays open with its reason
    if (reason == null) { // an IOC bid left the book: its reason is in the result
      long[] ids = result.reasonBidIds();
      for (int i = 0; i < ids.length; i++) {
        if (ids[i] == bid.id()) {
          reason = Reason.of(result.reasons()[i]);
        }
      }
    }
    return new Probe(null, reason);
  }

  /**
   * The lowest whole-cent limit above the bid's at which it fills now, by bisection: a higher limit
   * only moves a bid earlier in the price-time order and past more reserves, so once it fills at
   * some limit it fills at every higher one.
   */
  private static long lowestFillingLimit(OrderBook book, BidSpec bid, long nowMillis) {
    if (probe(book, bid.withLimitPrice(Price.MAX_MICROS), nowMillis).lease == null) {
      return -1;
    }
    long fails = bid.limitPrice(); // in cents from here: lo fails, hi fills
    long lo = fails / CENT;
    long hi = Price.MAX_MICROS / CENT;
    while (hi - lo > 1) {
      long mid = (lo + hi) >>> 1;
      if (probe(book, bid.withLimitPrice(mid * CENT), nowMillis).lease != null) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    return hi * CENT;
  }

  private static int earliestStartAtLimit(OrderBook book, BidSpec bid, long nowMillis) {
    int horizonEnd = book.clock().slotAtOrAfter(nowMillis) + book.clock().horizonSlots();
    if (horizonEnd <= bid.latestEnd()) {
      return -1;
    }
    Probe p = probe(book, bid.withLatestEnd(horizonEnd), nowMillis);
    return p.lease == null ? -1 : p.lease.startSlot();
  }
}
