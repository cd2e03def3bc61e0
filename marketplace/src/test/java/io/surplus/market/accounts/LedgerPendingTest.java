package io.surplus.market.accounts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.surplus.engine.BidSpec;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The ledger's pending bids, which the reconciler walks instead of every bid, are exactly the bids
 * whose status is {@code PENDING}, in the order they were reserved, through every event that moves
 * a bid and through the snapshot.
 */
class LedgerPendingTest {

  static final String H100 = "H100-SXM-80GB";

  static Account.BidReserved reserved(long id, long atMillis) {
    return new Account.BidReserved(
        id,
        H100,
        BidSpec.gtc(id, 7, 1, 1, 4, 1_000, 1_200, 2_000_000),
        8_000_000,
        "idem-" + id,
        "hash-" + id,
        atMillis);
  }

  static List<Long> pendingByStatus(Ledger l) {
    return l.bids.values().stream()
        .filter(b -> b.status() == Account.BidStatus.PENDING)
        .map(Account.BidEntry::bidId)
        .collect(Collectors.toList());
  }

  static void assertPendingMatchesStatus(Ledger l, List<Long> expected) {
    assertEquals(expected, List.copyOf(l.pending), "the pending index");
    assertEquals(expected, pendingByStatus(l), "the bids' statuses");
    assertEquals(expected, List.copyOf(Ledger.of(l.snapshot()).pending), "after the snapshot");
  }

  @Test
  void shouldKeepExactlyThePendingBidsInTheOrderReserved() {
    Ledger l = new Ledger();
    for (long id = 1; id <= 6; id++) {
      l.apply(reserved(id, 1_000 + id));
    }
    assertPendingMatchesStatus(l, List.of(1L, 2L, 3L, 4L, 5L, 6L));

    l.apply(new Account.BidConfirmed(2)); // placed: open
    l.apply(new Account.BidClosed(4, Account.BidStatus.REJECTED)); // never placed
    assertPendingMatchesStatus(l, List.of(1L, 3L, 5L, 6L));

    // an epoch fills one pending bid (its confirmation still on the way), expires and leaves others
    l.apply(
        new Account.EpochRecorded(
            H100,
            1,
            List.of(new Account.Fill(H100 + "/1", 5, 2_000_000, 1, 8, 0, 3_600_000)),
            List.of(6L),
            List.of(2L)));
    assertPendingMatchesStatus(l, List.of(1L, 3L));

    l.apply(new Account.BidConfirmed(99)); // unknown: nothing moves
    l.apply(new Account.BidConfirmed(3));
    l.apply(reserved(7, 2_000));
    assertPendingMatchesStatus(l, List.of(1L, 7L));
  }
}
