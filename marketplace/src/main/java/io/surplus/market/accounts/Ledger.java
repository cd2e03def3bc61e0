package io.surplus.market.accounts;

import io.surplus.engine.Price;
import io.surplus.market.CborSerializable;
import io.surplus.market.accounts.Account.BidEntry;
import io.surplus.market.accounts.Account.BidStatus;
import io.surplus.market.accounts.Account.LeaseEntry;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * An account's money and what it is committed to: its bids (each with its worst-case cost
 * reserved), the leases its fills became (with what each costs and what has been charged), and the
 * three sums that hold the credit limit, {@code reserved + leased + charged}. Bids and leases are
 * one ledger because money moves between them: a fill turns a reservation into a lease, a cut lease
 * whose bid goes back in the book turns what it freed into a reservation again. Also the last epoch
 * and revocation applied per market, so each is applied once. Changed by {@link
 * Account.LedgerEvent}s only; mutated in place by the account's event handler.
 */
final class Ledger {

  final LinkedHashMap<Long, BidEntry> bids = new LinkedHashMap<>();

  /**
   * The bids still {@link BidStatus#PENDING} (reserved, their placement not yet confirmed), in the
   * order they were reserved: what the reconciler asks the markets about, without walking every bid
   * the account holds (tens of thousands for a large bidder) each time it runs.
   */
  final LinkedHashSet<Long> pending = new LinkedHashSet<>();

  final Map<String, Long> byIdempotencyKey = new HashMap<>();
  final Map<String, Long> lastEpochByMarket = new HashMap<>();

  /** Per market, the last revocation whose cuts this account has applied. */
  final Map<String, Long> lastRevocationByMarket = new HashMap<>();

  final LinkedHashMap<String, LeaseEntry> leases = new LinkedHashMap<>();
  long reserved;
  long leased;
  long charged;
  long chargedThroughMillis;
  int closedBids;

  /** What the account has committed, in micro-dollars: never more than its credit limit. */
  long committed() {
    return reserved + leased + charged;
  }

  void apply(Account.LedgerEvent event) {
    if (event instanceof Account.BidReserved e) {
      bids.put(
          e.bidId(),
          new BidEntry(
              e.bidId(),
              e.market(),
              e.spec(),
              e.reserve(),
              e.idempotencyKey(),
              e.requestHash(),
              e.atMillis(),
              BidStatus.PENDING));
      byIdempotencyKey.put(e.idempotencyKey(), e.bidId());
      pending.add(e.bidId());
      reserved += e.reserve();
    } else if (event instanceof Account.BidConfirmed e) {
      bids.computeIfPresent(e.bidId(), (k, b) -> b.withStatus(BidStatus.OPEN));
      pending.remove(e.bidId());
    } else if (event instanceof Account.BidClosed e) {
      close(e.bidId(), e.status());
    } else if (event instanceof Account.EpochRecorded e) {
      epoch(e);
    } else if (event instanceof Account.CutsRecorded e) {
      cuts(e);
    } else if (event instanceof Account.Charged e) {
      charged(e);
    }
  }

  private void epoch(Account.EpochRecorded e) {
    lastEpochByMarket.put(e.market(), e.epoch());
    for (Account.Fill f : e.fills()) {
      close(f.bidId(), BidStatus.FILLED);
      if (!leases.containsKey(f.leaseKey())) {
        long cost =
            Price.cost(
                f.price(), f.nodes(), f.gpusPerNode(), (f.endMillis() - f.startMillis()) / 1000L);
        leases.put(
            f.leaseKey(),
            new LeaseEntry(
                f.leaseKey(),
                f.bidId(),
                f.price(),
                f.nodes(),
                f.gpusPerNode(),
                f.startMillis(),
                f.endMillis(),
                cost,
                0));
        leased += cost;
      }
    }
    e.expiredBidIds().forEach(b -> close(b, BidStatus.EXPIRED));
    e.unfilledBidIds().forEach(b -> close(b, BidStatus.UNFILLED));
  }

  private void cuts(Account.CutsRecorded e) {
    lastRevocationByMarket.put(e.market(), e.revocation());
    for (Account.CutLease c : e.cuts()) {
      LeaseEntry l = leases.get(c.leaseKey());
      if (l == null) {
        continue; // already settled
      }
      // billed up to the preemption, less the notice it was owed and not given
      long billEnd =
          Math.max(
              l.startMillis(),
              Math.min(l.endMillis(), c.preemptAtMillis() - c.shortfallSeconds() * 1000L));
      long cost =
          Math.max(
              l.charged(),
              Price.cost(
                  l.price(), l.nodes(), l.gpusPerNode(), (billEnd - l.startMillis()) / 1000L));
      LeaseEntry cut = l.cutTo(billEnd, cost);
      leased += (cost - l.charged()) - (l.cost() - l.charged());
      if (cut.settled()) {
        leases.remove(c.leaseKey());
      } else {
        leases.put(c.leaseKey(), cut);
      }
      BidEntry bid = bids.get(c.bidId());
      if (c.requeued() && bid != null && bid.status() == BidStatus.FILLED) {
        // back in the book for the time it lost: what the cut freed stays reserved for it
        long freed = l.cost() - cost;
        bids.put(
            c.bidId(),
            new BidEntry(
                bid.bidId(),
                bid.market(),
                bid.spec(),
                freed,
                bid.idempotencyKey(),
                bid.requestHash(),
                bid.atMillis(),
                BidStatus.OPEN));
        reserved += freed;
        closedBids--;
      }
    }
  }

  private void charged(Account.Charged e) {
    chargedThroughMillis = e.asOfMillis();
    e.charges()
        .forEach(
            (key, amount) -> {
              LeaseEntry l = leases.get(key);
              if (l == null) {
                return;
              }
              LeaseEntry after = l.plusCharged(amount);
              leased -= amount;
              charged += amount;
              if (after.settled()) {
                leases.remove(key);
              } else {
                leases.put(key, after);
              }
            });
  }

  /** Frees a bid's reservation once, and forgets the oldest closed bids past the bound. */
  private void close(long bidId, BidStatus status) {
    BidEntry b = bids.get(bidId);
    if (b != null && b.status() == BidStatus.REJECTED && status == BidStatus.FILLED) {
      // the reconciler gave up on it while its fill was on the way: it did fill
      bids.put(bidId, b.withStatus(BidStatus.FILLED));
      return;
    }
    if (b == null || b.status().closed()) {
      return;
    }
    bids.put(bidId, b.withStatus(status));
    pending.remove(bidId);
    reserved -= b.reserved();
    closedBids++;
    if (closedBids > Account.CLOSED_BIDS_KEPT) {
      var it = bids.values().iterator();
      while (it.hasNext() && closedBids > Account.CLOSED_BIDS_KEPT) {
        BidEntry old = it.next();
        if (old.status().closed()) {
          it.remove();
          byIdempotencyKey.remove(old.idempotencyKey());
          closedBids--;
        }
      }
    }
  }

  /** The ledger as its snapshot keeps it (the key index is rebuilt from the bids). */
  record Snapshot(
      List<BidEntry> bids,
      Map<String, Long> lastEpochByMarket,
      Map<String, Long> lastRevocationByMarket,
      List<LeaseEntry> leases,
      long reserved,
      long leased,
      long charged,
      long chargedThroughMillis,
      int closedBids)
      implements CborSerializable {}

  Snapshot snapshot() {
    return new Snapshot(
        List.copyOf(bids.values()),
        Map.copyOf(lastEpochByMarket),
        Map.copyOf(lastRevocationByMarket),
        List.copyOf(leases.values()),
        reserved,
        leased,
        charged,
        chargedThroughMillis,
        closedBids);
  }

  static Ledger of(Snapshot s) {
    Ledger l = new Ledger();
    for (BidEntry b : s.bids()) {
      l.bids.put(b.bidId(), b);
      l.byIdempotencyKey.put(b.idempotencyKey(), b.bidId());
      if (b.status() == BidStatus.PENDING) {
        l.pending.add(b.bidId());
      }
    }
    l.lastEpochByMarket.putAll(s.lastEpochByMarket());
    l.lastRevocationByMarket.putAll(s.lastRevocationByMarket());
    s.leases().forEach(x -> l.leases.put(x.leaseKey(), x));
    l.reserved = s.reserved();
    l.leased = s.leased();
    l.charged = s.charged();
    l.chargedThroughMillis = s.chargedThroughMillis();
    l.closedBids = s.closedBids();
    return l;
  }
}
