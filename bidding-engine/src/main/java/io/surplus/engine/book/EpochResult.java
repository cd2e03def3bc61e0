package io.surplus.engine.book;

import io.surplus.engine.Lease;
import io.surplus.engine.Reason;
import java.util.List;

/**
 * What one epoch of one market did: the leases it made at the uniform clearing price, the bids it
 * closed without a fill, and the reason of every bid left open whose reason changed.
 *
 * @param clearingPrice the uniform price in micro-dollars per GPU-hour, 0 when nothing filled
 * @param marginalBidId the filled bid whose limit set the price, -1 when nothing filled
 * @param expiredBidIds GTC bids that reached {@code expiresAt} or can no longer fit before their
 *     end
 * @param unfilledIocBidIds IOC bids that did not fill and left the book
 * @param reasonBidIds bids (open, or IOC just closed) whose reason changed, parallel to {@code
 *     reasons}
 * @param reasonCounts open bids per {@link Reason} ordinal after the epoch, IOC just closed
 *     included
 * @param searched bids searched this epoch
 * @param skipped failed bids not searched again because no capacity appeared in their range
 * @param repairFills leases the repair pass added after the greedy placement (0 when the book does
 *     not run it)
 * @param repairMoves leases of this epoch the repair pass moved to another start or window
 */
public record EpochResult(
    long epoch,
    int nowSlot,
    long clearingPrice,
    long marginalBidId,
    List<Lease> leases,
    long[] expiredBidIds,
    long[] unfilledIocBidIds,
    long[] reasonBidIds,
    byte[] reasons,
    int[] reasonCounts,
    int openBids,
    int searched,
    int skipped,
    int repairFills,
    int repairMoves) {

  public int filledNodes() {
    int n = 0;
    for (Lease l : leases) {
      n += l.nodes();
    }
    return n;
  }

  public int reasonCount(Reason r) {
    return reasonCounts[r.ordinal()];
  }
}
