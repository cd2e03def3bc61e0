package io.surplus.market.bids;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Price;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.market.accounts.Account;
import io.surplus.market.http.Api;
import io.surplus.market.http.Problem;
import io.surplus.market.ids.Ids;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketGate;
import io.surplus.market.settings.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * A bid's placement, one bid or a batch, outside the HTTP layer: the bid's worst-case cost is
 * reserved in its bidder's account first (which gives it its id and remembers its idempotency key),
 * then it is placed in its market, and it counts as placed once the market's journal write is
 * durable; the account then hears that its market holds it (confirm) or that it was refused (close,
 * freeing the reservation). A batch reserves all its bids in one write of the account, sends one
 * message per market it touches and confirms in one write. What a crash leaves pending (reserved,
 * never confirmed) is settled from here too: the account's reconciler, on a timer and after its
 * recovery, asks {@link #inBook} whether the bid's market holds it, then confirms or frees it.
 * Refusals are failures carrying the problem the API answers with; {@code BidRoutes} parses and
 * renders.
 */
public final class BidPlacement implements Account.BookLookup {

  /** A bid as it stands: its account's entry, and while it is open its market's reason. */
  record Shown(Account.BidEntry entry, Reason reason) {}

  /** A bid placed (or, for a retry of the same request, the bid placed the first time). */
  record Placed(Account.BidEntry entry, Reason reason, boolean replay) {}

  private final ActorSystem<?> system;
  private final Settings settings;
  private final ClusterSharding sharding;
  private final Duration timeout;

  /** How long the reconciler waits for a market's answer about a pending bid. */
  static final Duration BOOK_LOOKUP_TIMEOUT = Duration.ofSeconds(10);

  public BidPlacement(ActorSystem<?> system, Settings settings) {
    this.system = system;
    this.settings = settings;
    this.sharding = ClusterSharding.get(system);
    this.timeout = settings.askTimeout();
  }

  private EntityRef<Account.Command> account(long id) {
    return sharding.entityRefFor(Account.ENTITY_KEY, Long.toString(id));
  }

  private EntityRef<MarketGate.Message> market(String model) {
    return sharding.entityRefFor(MarketGate.ENTITY_KEY, model);
  }

  /**
   * Whether {@code market} holds the bid in its book: for the account's reconciler, about a bid
   * reserved whose placement never reported back (a crash, a lost answer).
   */
  @Override
  public CompletionStage<Boolean> inBook(String market, long bidId) {
    return market(market)
        .<Market.BidSummary>ask(
            r -> new MarketGate.Forward(new Market.GetBid(bidId, r)), BOOK_LOOKUP_TIMEOUT)
        .thenApply(Market.BidSummary::open);
  }

  /** A bid checked and priced at {@code now}, ready to reserve. */
  record Priced(String model, BidSpec spec, long reserve, String key, String hash, long now) {}

  Priced price(String key, String hash, BidRequest request, long now) {
    BidSpec spec = request.toSpec(settings, now);
    String model = request.gpuModel();
    long reserve =
        Price.cost(
            spec.limitPrice(),
            spec.nodes(),
            settings.gpusPerNode(model),
            settings.clock().seconds(spec.durationSlots()));
    return new Priced(model, spec, reserve, key, hash, now);
  }

  /** Reserves and places one bid, checked and priced. */
  CompletionStage<Placed> placeOne(long accountId, Priced p) {
    return account(accountId)
        .<Account.Reservation>ask(
            r ->
                new Account.ReserveBid(
                    p.key(),
                    p.hash(),
                    p.model(),
                    p.spec(),
                    p.reserve(),
                    p.now(),
                    p.now() + timeout.toMillis(),
                    r),
            timeout)
        .thenCompose(reservation -> place(accountId, p, reservation));
  }

  /**
   * What follows a bid's reservation: its market, then the account hears the outcome. A new bid is
   * answered as soon as its market's write is durable; the account's confirmation follows without
   * holding the answer up (one message, sent before the answer, so the bidder's next request finds
   * it applied; were it lost, the reconciler confirms the bid from its market).
   */
  private CompletionStage<Placed> place(long accountId, Priced p, Account.Reservation reservation) {
    ToPlace t = afterReservation(accountId, p, reservation);
    if (t.answered() != null) {
      return t.answered();
    }
    return market(p.model())
        .<Market.Outcome>ask(o -> new MarketGate.Place(placement(t, o)), timeout)
        .thenCompose(outcome -> afterMarket(accountId, t, outcome.code(), null));
  }

  /**
   * A bid after its reservation: answered already (a refusal, or a replay of a bid its market has
   * answered), or to be placed in its market as {@code bid}.
   */
  private record ToPlace(
      CompletionStage<Placed> answered, Priced priced, Account.Reserved reserved, BidSpec bid) {}

  /** The market command that places {@code t}'s bid, valid until this request times out. */
  private Market.PlaceBid placement(ToPlace t, ActorRef<Market.Outcome> replyTo) {
    long now = t.priced().now();
    return new Market.PlaceBid(t.bid(), now, now + timeout.toMillis(), replyTo);
  }

  private ToPlace afterReservation(long accountId, Priced p, Account.Reservation reservation) {
    if (reservation instanceof Account.KeyReused) {
      throw Problem.keyReused().failure();
    }
    if (reservation instanceof Account.InsufficientCredit c) {
      throw Problem.of(
              422,
              "insufficient-credit",
              "Not enough credit",
              "the bid may cost up to $"
                  + Price.format(c.needed())
                  + " but only $"
                  + Price.format(Math.max(0, c.available()))
                  + " of the credit limit is free",
              "limitPrice")
          .failure();
    }
    if (reservation instanceof Account.TooLate) {
      throw new Api.Unavailable("the reservation came too late", null);
    }
    if (reservation instanceof Account.Settling) {
      // the reconciler answers within the grace period: then this key gets its bid or 422
      throw new Api.Unavailable("the bid of this Idempotency-Key is being settled", null);
    }
    if (!(reservation instanceof Account.Reserved r)) {
      throw Problem.unauthorized("the account does not exist").failure();
    }
    if (r.replay() && r.status() == Account.BidStatus.REJECTED) {
      throw Problem.of(
              422,
              "not-placed",
              "The earlier request with this key was not placed",
              "the bid made with this Idempotency-Key was never confirmed by its market"
                  + " and is rejected; send the bid again with a new key",
              "Idempotency-Key")
          .failure();
    }
    if (r.replay() && r.status() != Account.BidStatus.PENDING) {
      return new ToPlace(
          bid(accountId, r.bidId()).thenApply(b -> new Placed(b.entry(), b.reason(), true)),
          p,
          r,
          null);
    }
    return new ToPlace(null, p, r, p.spec().withIdAndAccount(r.bidId(), accountId));
  }

  /**
   * A bid after its market's answer: confirmed (a batch collects its confirmations in {@code
   * confirmTogether} to send them at once) and shown, or its reservation released and refused.
   */
  private CompletionStage<Placed> afterMarket(
      long accountId, ToPlace t, ResultCode rc, List<Long> confirmTogether) {
    Account.Reserved r = t.reserved();
    Priced p = t.priced();
    if (r.replay() && (rc == ResultCode.OK || rc == ResultCode.DUPLICATE_ID)) {
      return account(accountId)
          .<Done>ask(d -> new Account.ConfirmBid(r.bidId(), d), timeout)
          .thenCompose(d -> bid(accountId, r.bidId()))
          .thenApply(b -> new Placed(b.entry(), b.reason(), true));
    }
    if (rc == ResultCode.OK) {
      if (confirmTogether == null) {
        account(accountId).tell(new Account.ConfirmBid(r.bidId(), system.ignoreRef()));
      } else {
        synchronized (confirmTogether) {
          confirmTogether.add(r.bidId());
        }
      }
      Account.BidEntry entry =
          new Account.BidEntry(
              r.bidId(),
              p.model(),
              t.bid(),
              p.reserve(),
              p.key(),
              p.hash(),
              p.now(),
              Account.BidStatus.OPEN);
      return CompletableFuture.completedFuture(new Placed(entry, Reason.NONE, false));
    }
    return account(accountId)
        .<Done>ask(d -> new Account.CloseBid(r.bidId(), Account.BidStatus.REJECTED, d), timeout)
        .thenApply(
            d -> {
              throw refused(rc).failure();
            });
  }

  /** Completes {@code to} as {@code from} completes. */
  static <T> void relay(CompletionStage<T> from, CompletableFuture<T> to) {
    from.whenComplete(
        (value, failure) -> {
          if (failure != null) {
            to.completeExceptionally(failure);
          } else {
            to.complete(value);
          }
        });
  }

  /** A market's refusal of a bid that passed the checks here (the clock moved in between). */
  static Problem refused(ResultCode rc) {
    return switch (rc) {
      case IN_THE_PAST -> Problem.invalid("latestEnd", "latestEnd is in the past");
      case BEYOND_HORIZON -> Problem.invalid("latestEnd", "latestEnd is beyond the horizon");
      case TOO_LATE_TO_FIT ->
          Problem.invalid("durationMinutes", "the duration no longer fits before latestEnd");
      default ->
          Problem.of(
              409, "refused", "The market refused the bid", "the market answered " + rc, null);
    };
  }

  /**
   * Reserves and places the batch's bids, checked and priced at {@code now}: one future per bid, in
   * order, each completed only once every market has answered and the confirmations are sent.
   */
  List<CompletableFuture<Placed>> placeAll(long account, List<Priced> valid, long now) {
    List<CompletableFuture<Placed>> results = new ArrayList<>(valid.size());
    valid.forEach(v -> results.add(new CompletableFuture<>()));
    if (valid.isEmpty()) {
      return results;
    }
    // every valid bid of the batch reserved in one journal write of the account
    List<Account.BidToReserve> toReserve =
        valid.stream()
            .map(
                p ->
                    new Account.BidToReserve(
                        p.key(), p.hash(), p.model(), p.spec(), p.reserve(), now))
            .toList();
    List<Long> confirm = new ArrayList<>();
    account(account)
        .<Account.Reservations>ask(
            r -> new Account.ReserveBids(toReserve, now + timeout.toMillis(), r), timeout)
        .whenComplete(
            (reservations, failure) -> {
              List<CompletableFuture<Placed>> placements = new ArrayList<>(valid.size());
              ToPlace[] toPlace = new ToPlace[valid.size()];
              Map<String, List<Integer>> byMarket = new LinkedHashMap<>();
              for (int j = 0; j < valid.size(); j++) {
                if (failure != null) {
                  placements.add(CompletableFuture.failedFuture(failure));
                  continue;
                }
                try {
                  ToPlace t = afterReservation(account, valid.get(j), reservations.items().get(j));
                  if (t.answered() != null) {
                    placements.add(t.answered().toCompletableFuture());
                  } else {
                    toPlace[j] = t;
                    placements.add(new CompletableFuture<>());
                    byMarket.computeIfAbsent(t.priced().model(), m -> new ArrayList<>()).add(j);
                  }
                } catch (RuntimeException e) {
                  placements.add(CompletableFuture.failedFuture(e));
                }
              }
              // one message per market the batch touches; each bid's result comes back in it
              byMarket.forEach(
                  (model, indexes) -> {
                    List<Market.PlaceBid> bids =
                        indexes.stream().map(j -> placement(toPlace[j], null)).toList();
                    market(model)
                        .<MarketGate.Outcomes>ask(o -> new MarketGate.PlaceAll(bids, o), timeout)
                        .whenComplete(
                            (outcomes, e) -> {
                              for (int k = 0; k < indexes.size(); k++) {
                                int j = indexes.get(k);
                                CompletableFuture<Placed> placement = placements.get(j);
                                ResultCode rc = e == null ? outcomes.results().get(k) : null;
                                if (rc == null) {
                                  placement.completeExceptionally(
                                      e != null
                                          ? e
                                          : new java.util.concurrent.TimeoutException(
                                              "the market took the bid after its deadline"));
                                  continue;
                                }
                                relay(afterMarket(account, toPlace[j], rc, confirm), placement);
                              }
                            });
                  });
              // the batch's confirmations in one write, sent once every market has answered
              // and before any item is answered
              CompletableFuture.allOf(placements.toArray(CompletableFuture[]::new))
                  .whenComplete(
                      (v, t) -> {
                        List<Long> ids;
                        synchronized (confirm) {
                          ids = List.copyOf(confirm);
                        }
                        if (!ids.isEmpty()) {
                          account(account).tell(new Account.ConfirmBids(ids, system.ignoreRef()));
                        }
                        for (int j = 0; j < placements.size(); j++) {
                          relay(placements.get(j), results.get(j));
                        }
                      });
            });
    return results;
  }

  /** The bid as its account knows it, with its live reason from the market while it is open. */
  CompletionStage<Shown> bid(long accountId, long bidId) {
    return account(accountId)
        .<Account.BidFound>ask(r -> new Account.GetBid(bidId, r), timeout)
        .thenCompose(
            v -> {
              if (v.entry() == null) {
                throw Problem.notFound("no bid " + Ids.bid(bidId) + " in this account").failure();
              }
              Account.BidEntry e = v.entry();
              if (e.status().closed()) {
                return CompletableFuture.completedFuture(new Shown(e, null));
              }
              return market(e.market())
                  .<Market.BidSummary>ask(
                      r -> new MarketGate.Forward(new Market.GetBid(bidId, r)), timeout)
                  .thenApply(s -> new Shown(e, s.open() ? s.reason() : null));
            });
  }
}
