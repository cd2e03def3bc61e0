package io.surplus.market.accounts;

import io.surplus.engine.Lease;
import io.surplus.engine.SlotClock;
import io.surplus.market.ids.Ids;
import io.surplus.market.markets.EpochProjections;
import io.surplus.market.markets.Market;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * Carries each market epoch to the accounts it touched: their fills (which turn reservations into
 * leases) and their bids closed unfilled (which free reservations). A projection over the tagged
 * {@link Market.EpochCleared} events, at least once; each account applies an epoch once, by its
 * number per market, so redelivery changes nothing. It runs as one sharded daemon process, so on a
 * cluster exactly one node drives it.
 */
public final class AccountEpochs extends Handler<EventEnvelope<Market.Event>> {

  public static final String PROJECTION = "account-epochs";

  private final ClusterSharding sharding;
  private final SlotClock clock;
  private final Duration timeout;

  AccountEpochs(ActorSystem<?> system, SlotClock clock, Duration timeout) {
    this.sharding = ClusterSharding.get(system);
    this.clock = clock;
    this.timeout = timeout;
  }

  /** Creates the offset table if needed, then starts the projection on the cluster. */
  public static CompletionStage<Done> init(
      ActorSystem<?> system, SlotClock clock, Duration timeout) {
    return CassandraProjection.createTablesIfNotExists(system)
        .thenApply(
            done -> {
              EpochProjections.run(
                  system, PROJECTION, () -> new AccountEpochs(system, clock, timeout));
              return Done.getInstance();
            });
  }

  /** Tells each account whose leases a revocation cut: they end early, billed as the cut says. */
  private CompletionStage<Done> cuts(String market, Market.WindowRevoked r) {
    Map<Long, List<Account.CutLease>> byAccount = new TreeMap<>();
    for (io.surplus.engine.book.Cut c : r.cuts()) {
      byAccount
          .computeIfAbsent(c.lease().account(), a -> new ArrayList<>())
          .add(
              new Account.CutLease(
                  leaseKey(market, c.lease().id()),
                  c.lease().bidId(),
                  c.preemptAtMillis(),
                  c.noticeShortfallSeconds(),
                  c.kind().name(),
                  c.requeued()));
    }
    List<CompletableFuture<Done>> sent = new ArrayList<>();
    byAccount.forEach(
        (account, cuts) -> {
          if (account <= 0 || account >= (1L << 31)) {
            return;
          }
          sent.add(
              sharding
                  .entityRefFor(Account.ENTITY_KEY, Long.toString(account))
                  .<Done>ask(r2 -> new Account.RecordCuts(market, r.number(), cuts, r2), timeout)
                  .toCompletableFuture());
        });
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
        .thenApply(v -> Done.getInstance());
  }

  /** The market of a persistence id {@code Market|<gpuModel>}. */
  public static String marketOf(String persistenceId) {
    return persistenceId.substring(persistenceId.indexOf('|') + 1);
  }

  /** A lease's id across markets: {@code <gpuModel>.<n>}. */
  public static String leaseKey(String market, long leaseId) {
    return market + "." + leaseId;
  }

  private record Touched(List<Account.Fill> fills, List<Long> expired, List<Long> unfilled) {
    Touched() {
      this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    }
  }

  @Override
  public CompletionStage<Done> process(EventEnvelope<Market.Event> envelope) {
    if (envelope.event() instanceof Market.WindowRevoked r) {
      return cuts(marketOf(envelope.persistenceId()), r);
    }
    if (!(envelope.event() instanceof Market.EpochCleared e)) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    String market = marketOf(envelope.persistenceId());
    Map<Long, Touched> byAccount = new TreeMap<>();
    for (Lease l : e.leases()) {
      byAccount
          .computeIfAbsent(l.account(), a -> new Touched())
          .fills()
          .add(
              new Account.Fill(
                  leaseKey(market, l.id()),
                  l.bidId(),
                  l.price(),
                  l.nodes(),
                  l.gpusPerNode(),
                  clock.startMillis(l.startSlot()),
                  clock.startMillis(l.endSlot())));
    }
    for (long b : e.expiredBidIds()) {
      byAccount.computeIfAbsent(Ids.accountOf(b), a -> new Touched()).expired().add(b);
    }
    for (long b : e.unfilledIocBidIds()) {
      byAccount.computeIfAbsent(Ids.accountOf(b), a -> new Touched()).unfilled().add(b);
    }
    List<CompletableFuture<Done>> sent = new ArrayList<>();
    byAccount.forEach(
        (account, t) -> {
          if (account <= 0 || account >= (1L << 31)) {
            return; // bids placed outside the API (tests, simulations) belong to no account
          }
          sent.add(
              sharding
                  .entityRefFor(Account.ENTITY_KEY, Long.toString(account))
                  .<Done>ask(
                      r ->
                          new Account.RecordEpoch(
                              market, e.epoch(), t.fills(), t.expired(), t.unfilled(), r),
                      timeout)
                  .toCompletableFuture());
        });
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
        .thenApply(v -> Done.getInstance());
  }
}
