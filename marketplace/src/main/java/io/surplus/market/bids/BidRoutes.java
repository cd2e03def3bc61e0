package io.surplus.market.bids;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.Price;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.whatif.Quote;
import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.ApiKeys;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.http.Role;
import io.surplus.market.ids.Ids;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketGate;
import io.surplus.market.settings.Settings;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The bid API: place (one or a batch), list, show, cancel. A placement reserves the bid's worst
 * case cost in the bidder's account first (which also gives the bid its id and remembers the
 * idempotency key), then places it in its market; it is acknowledged ({@code 201}) only after the
 * market's journal write. A retry with the same key and body answers the same bid; with another
 * body it is refused.
 */
public final class BidRoutes {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BidRoutes.class);

  /** Largest body of a batch placement. */
  public static final long BATCH_BODY_LIMIT = 2L * 1024 * 1024;

  /** A bid as the API shows it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record BidView(
      String id,
      String status,
      String gpuModel,
      int nodes,
      int minNodes,
      int durationMinutes,
      String earliestStart,
      String latestEnd,
      String limitPrice,
      int minNoticeSeconds,
      List<String> regions,
      String timeInForce,
      String expiresAt,
      boolean requeue,
      String minConfidence,
      List<String> avoidPools,
      boolean requeueAvoidsPool,
      String reserved,
      String reason,
      String createdAt) {}

  public record BidList(List<BidView> bids, String nextCursor) {}

  /**
   * {@code POST /v1/bids/preview}: what the market's next epoch would do with the bid, from the
   * engine's own clearing on a copy of the book (nothing is written or reserved). {@code wouldFill}
   * with the lease it would get ({@code start}, {@code end}, {@code nodes}, {@code price}); or the
   * {@code reason} it would stay open, the lowest limit at which it would fill now ({@code
   * fillsAtLimit}, null if none up to the cap) and the earliest start at its own limit with its
   * latest end moved to the horizon ({@code earliestStartAtLimit}, null if none). {@code reserve}:
   * what placing it would reserve.
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record PreviewView(
      String gpuModel,
      boolean wouldFill,
      String start,
      String end,
      Integer nodes,
      String price,
      String reason,
      String fillsAtLimit,
      String earliestStartAtLimit,
      String reserve,
      String asOf) {}

  public record BatchRequest(List<Object> bids) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record BatchItem(int index, int status, BidView bid, Problem problem) {}

  public record BatchResult(int accepted, int rejected, List<BatchItem> results) {}

  private final ActorSystem<?> system;
  private final Settings settings;
  private final ClusterSharding sharding;
  private final Duration timeout;

  public BidRoutes(ActorSystem<?> system, Settings settings) {
    this.system = system;
    this.settings = settings;
    this.sharding = ClusterSharding.get(system);
    this.timeout = settings.askTimeout();
  }

  public List<Endpoint> endpoints() {
    Set<Role> bidder = Set.of(Role.BIDDER);
    return List.of(
        Endpoint.of("POST", "/v1/bids", bidder, this::place),
        Endpoint.of("POST", "/v1/bids/preview", bidder, this::preview),
        Endpoint.of("POST", "/v1/bids/batch", bidder, this::placeBatch)
            .withBodyLimit(BATCH_BODY_LIMIT),
        Endpoint.of("GET", "/v1/bids", bidder, this::list),
        Endpoint.of("GET", "/v1/bids/{id}", bidder, this::show),
        Endpoint.of("DELETE", "/v1/bids/{id}", bidder, this::cancel));
  }

  private EntityRef<Account.Command> account(long id) {
    return sharding.entityRefFor(Account.ENTITY_KEY, Long.toString(id));
  }

  private EntityRef<MarketGate.Message> market(String model) {
    return sharding.entityRefFor(MarketGate.ENTITY_KEY, model);
  }

  private CompletionStage<HttpResponse> place(Call call) {
    String key = call.idempotencyKey();
    BidRequest request = Json.read(call.body(), BidRequest.class);
    return placeOne(call.principal().account(), key, ApiKeys.sha256(call.body()), request)
        .thenApply(
            placed ->
                Api.json(201, placed.view())
                    .addHeader(RawHeader.create("Location", "/v1/bids/" + placed.view().id()))
                    .addHeader(
                        RawHeader.create(
                            "Idempotent-Replayed", Boolean.toString(placed.replay()))));
  }

  record Placed(BidView view, boolean replay) {}

  /** The id a previewed bid has on the market's copy: the account's, past any it will use. */
  static long previewId(long accountId) {
    return (accountId << 32) | 0xFFFF_FFFFL;
  }

  private CompletionStage<HttpResponse> preview(Call call) {
    BidRequest request = Json.read(call.body(), BidRequest.class);
    long accountId = call.principal().account();
    Priced p = price(null, null, request, System.currentTimeMillis());
    BidSpec spec = p.spec().withIdAndAccount(previewId(accountId), accountId);
    SlotClock clock = settings.clock();
    return market(p.model())
        .<Market.Quoted>ask(
            r -> new MarketGate.Forward(new Market.QuoteBid(spec, p.now(), r)), timeout)
        .thenApply(
            q -> {
              if (q.busy()) {
                throw new Api.Unavailable("too many previews waiting; try again", null);
              }
              Quote.Result quote = q.quote();
              if (quote.refused() != ResultCode.OK) {
                throw refused(quote.refused()).failure();
              }
              Lease l = quote.lease();
              return Api.json(
                  200,
                  new PreviewView(
                      p.model(),
                      l != null,
                      l == null ? null : clock.start(l.startSlot()).toString(),
                      l == null ? null : clock.start(l.endSlot()).toString(),
                      l == null ? null : l.nodes(),
                      l == null ? null : Price.format(l.price()),
                      quote.reason() == null || quote.reason() == Reason.NONE
                          ? null
                          : quote.reason().name(),
                      quote.lowestFillingLimit() < 0
                          ? null
                          : Price.format(quote.lowestFillingLimit()),
                      quote.earliestStartAtLimit() < 0
                          ? null
                          : clock.start(quote.earliestStartAtLimit()).toString(),
                      Price.format(p.reserve()),
                      Instant.ofEpochMilli(p.now()).toString()));
            });
  }

  /** A bid checked and priced at {@code now}, ready to reserve. */
  private record Priced(
      String model, BidSpec spec, long reserve, String key, String hash, long now) {}

  private Priced price(String key, String hash, BidRequest request, long now) {
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

  /** Validates, reserves, places one bid. */
  CompletionStage<Placed> placeOne(long accountId, String key, String hash, BidRequest request) {
    Priced p = price(key, hash, request, System.currentTimeMillis());
    return account(accountId)
        .<Account.Reservation>ask(
            r ->
                new Account.ReserveBid(
                    key,
                    hash,
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
          show(accountId, r.bidId()).thenApply(v -> new Placed(v, true)), p, r, null);
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
          .thenCompose(d -> show(accountId, r.bidId()))
          .thenApply(v -> new Placed(v, true));
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
      return CompletableFuture.completedFuture(new Placed(view(entry, Reason.NONE), false));
    }
    return account(accountId)
        .<Done>ask(d -> new Account.CloseBid(r.bidId(), Account.BidStatus.REJECTED, d), timeout)
        .thenApply(
            d -> {
              throw refused(rc).failure();
            });
  }

  /** Completes {@code to} as {@code from} completes. */
  private static <T> void relay(CompletionStage<T> from, CompletableFuture<T> to) {
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

  private CompletionStage<HttpResponse> placeBatch(Call call) {
    String key = call.idempotencyKey();
    BatchRequest batch = Json.read(call.body(), BatchRequest.class);
    if (batch.bids() == null) {
      throw Problem.missing("bids").failure();
    }
    if (batch.bids().isEmpty() || batch.bids().size() > settings.maxBatchBids()) {
      throw Problem.invalid("bids", "bids must hold 1 to " + settings.maxBatchBids() + " bids")
          .failure();
    }
    long account = call.principal().account();
    long now = System.currentTimeMillis();
    int n = batch.bids().size();
    List<CompletableFuture<BatchItem>> items = new ArrayList<>(n);
    List<Priced> valid = new ArrayList<>(n);
    List<CompletableFuture<Placed>> validItems = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      CompletableFuture<Placed> placed = new CompletableFuture<>();
      try {
        String itemJson = Json.write(batch.bids().get(i));
        BidRequest request = Json.read(itemJson, BidRequest.class);
        valid.add(price(batchItemKey(key, i), ApiKeys.sha256(itemJson), request, now));
        validItems.add(placed);
      } catch (RuntimeException e) {
        placed.completeExceptionally(e);
      }
      int index = i;
      items.add(
          placed
              .thenApply(p -> new BatchItem(index, 201, p.view(), null))
              .exceptionally(
                  t ->
                      new BatchItem(
                          index,
                          apiResponse(t).status().intValue(),
                          null,
                          problemOf(t).withIndex(index))));
    }
    if (!valid.isEmpty()) {
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
                    ToPlace t =
                        afterReservation(account, valid.get(j), reservations.items().get(j));
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
                            relay(placements.get(j), validItems.get(j));
                          }
                        });
              });
    }
    return CompletableFuture.allOf(items.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              List<BatchItem> results = items.stream().map(CompletableFuture::join).toList();
              int ok = (int) results.stream().filter(r -> r.status() == 201).count();
              return Api.json(
                  ok == results.size() ? 201 : 207,
                  new BatchResult(ok, results.size() - ok, results));
            });
  }

  /**
   * The idempotency key of item {@code index} of a batch sent with {@code key}. Batch items have a
   * namespace of their own: the key holds a space, which no {@code Idempotency-Key} header may
   * (visible ASCII only), so no single bid's key can ever name a batch item. A single bid's key is
   * stored as sent, as it always was, so keys in existing journals still answer their retries.
   * (Items of batches stored before this namespace were keyed {@code key#index}; a retry of such a
   * batch is taken as new.)
   */
  static String batchItemKey(String key, int index) {
    return "batch " + key + " " + index;
  }

  private static HttpResponse apiResponse(Throwable t) {
    return Api.problem(problemOf(t));
  }

  private static Problem problemOf(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && !(c instanceof Problem.Failure)) {
      c = c.getCause();
    }
    if (c instanceof Problem.Failure f) {
      Problem p = f.problem();
      // a nested item's field names are relative to the item
      return p;
    }
    if (c instanceof java.util.concurrent.TimeoutException || c instanceof Api.Unavailable) {
      return Problem.unavailable("the write could not be confirmed in time; retry the item");
    }
    // a bug, not an outage: a retry would meet it again, so never tell the client to retry
    log.error("unexpected failure of a batch item", c);
    return Problem.of(500, "internal", "Internal error", "an unexpected error; it is logged", null);
  }

  /**
   * {@code GET /v1/bids}: one page of the caller's bids, newest first. Bounded: the account walks
   * only the bids it remembers ({@value Account#CLOSED_BIDS_KEPT} closed ones and its open ones)
   * and returns at most 500. The cursor is the id of the last bid of the previous page and must be
   * one of the caller's bid ids, else {@code 400} naming {@code cursor}.
   */
  private CompletionStage<HttpResponse> list(Call call) {
    String status = call.query("status").orElse(null);
    Account.BidStatus filter = null;
    if (status != null) {
      try {
        filter = Account.BidStatus.valueOf(status.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw Problem.of(
                400,
                "invalid-query",
                "A query parameter is invalid",
                "status must be one of pending, open, filled, cancelled, expired, unfilled,"
                    + " rejected",
                "status")
            .failure();
      }
    }
    int limit = limit(call);
    long after = 0;
    if (call.query("cursor").isPresent()) {
      after = cursorBidId(call);
    }
    Account.BidStatus f = filter;
    long a = after;
    return account(call.principal().account())
        .<Account.BidPage>ask(r -> new Account.ListBids(f, a, limit, r), timeout)
        .thenApply(
            page ->
                Api.json(
                    200,
                    new BidList(
                        page.bids().stream().map(e -> view(e, null)).toList(),
                        page.nextAfter() == 0 ? null : Ids.bid(page.nextAfter()))));
  }

  /** The bid id a list cursor names: one of the caller's, else 400 naming {@code cursor}. */
  static long cursorBidId(Call call) {
    String cursor = call.query("cursor").orElseThrow();
    try {
      long id = parseBidId(cursor, "cursor");
      if (Ids.accountOf(id) == call.principal().account()) {
        return id;
      }
    } catch (Problem.Failure notABidId) {
      // reported below
    }
    throw Problem.of(
            400,
            "invalid-query",
            "A query parameter is invalid",
            "cursor must be the nextCursor of an earlier page of this account's bids",
            "cursor")
        .failure();
  }

  static int limit(Call call) {
    String text = call.query("limit").orElse("100");
    try {
      int limit = Integer.parseInt(text);
      if (limit >= 1 && limit <= 500) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw Problem.of(
            400, "invalid-query", "A query parameter is invalid", "limit must be 1 to 500", "limit")
        .failure();
  }

  private CompletionStage<HttpResponse> show(Call call) {
    long id = ownBidId(call);
    return show(call.principal().account(), id).thenApply(v -> Api.json(200, v));
  }

  /** The bid as its account knows it, with its live reason from the market while it is open. */
  CompletionStage<BidView> show(long accountId, long bidId) {
    return account(accountId)
        .<Account.BidView>ask(r -> new Account.GetBid(bidId, r), timeout)
        .thenCompose(
            v -> {
              if (v.entry() == null) {
                throw Problem.notFound("no bid " + Ids.bid(bidId) + " in this account").failure();
              }
              Account.BidEntry e = v.entry();
              if (e.status().closed()) {
                return CompletableFuture.completedFuture(view(e, null));
              }
              return market(e.market())
                  .<Market.BidSummary>ask(
                      r -> new MarketGate.Forward(new Market.GetBid(bidId, r)), timeout)
                  .thenApply(s -> view(e, s.open() ? s.reason() : null));
            });
  }

  private CompletionStage<HttpResponse> cancel(Call call) {
    long id = ownBidId(call);
    long accountId = call.principal().account();
    call.header("Idempotency-Key").ifPresent(k -> call.idempotencyKey());
    return account(accountId)
        .<Account.BidView>ask(r -> new Account.GetBid(id, r), timeout)
        .thenCompose(
            v -> {
              if (v.entry() == null) {
                throw Problem.notFound("no bid " + Ids.bid(id) + " in this account").failure();
              }
              if (v.entry().status() == Account.BidStatus.CANCELLED) {
                return CompletableFuture.completedFuture(view(v.entry(), null));
              }
              if (v.entry().status().closed()) {
                throw Problem.of(
                        409,
                        "bid-closed",
                        "The bid is closed",
                        "bid "
                            + Ids.bid(id)
                            + " is "
                            + v.entry().status().name().toLowerCase(Locale.ROOT)
                            + " and cannot be cancelled",
                        null)
                    .failure();
              }
              return market(v.entry().market())
                  .<Market.Outcome>ask(
                      r -> new MarketGate.Forward(new Market.CancelBid(id, r)), timeout)
                  .thenCompose(
                      o -> {
                        if (o.code() != ResultCode.OK) {
                          throw Problem.of(
                                  409,
                                  "bid-closed",
                                  "The bid is closed",
                                  "bid "
                                      + Ids.bid(id)
                                      + " is no longer in the book (filled or expired)",
                                  null)
                              .failure();
                        }
                        return account(accountId)
                            .<Done>ask(
                                d -> new Account.CloseBid(id, Account.BidStatus.CANCELLED, d),
                                timeout);
                      })
                  .thenCompose(d -> show(accountId, id));
            })
        .thenApply(v -> Api.json(200, v));
  }

  /** The bid id of the path, which must belong to the caller (else 404: no leak of others' ids). */
  static long ownBidId(Call call) {
    long id = parseBidId(call.param("id"), "id");
    if (Ids.accountOf(id) != call.principal().account()) {
      throw Problem.notFound("no bid " + call.param("id") + " in this account").failure();
    }
    return id;
  }

  /** The bid {@code text} names, or a 404 naming {@code field}. */
  static long parseBidId(String text, String field) {
    long id = Ids.parseBid(text);
    if (id < 0) {
      throw Problem.of(
              404, "not-found", "Not found", "no bid " + text + " (ids read bid_<n>_<n>)", field)
          .failure();
    }
    return id;
  }

  BidView view(Account.BidEntry e, Reason reason) {
    BidSpec s = e.spec();
    SlotClock clock = settings.clock();
    List<String> regions = null;
    if (s.regionMask() != BidSpec.ANY_REGION) {
      regions = new ArrayList<>();
      for (int i = 0; i < settings.regions().size(); i++) {
        if ((s.regionMask() & (1L << i)) != 0) {
          regions.add(settings.regions().get(i));
        }
      }
    }
    return new BidView(
        Ids.bid(e.bidId()),
        e.status().name().toLowerCase(Locale.ROOT),
        e.market(),
        s.nodes(),
        s.minNodes(),
        (int) (clock.seconds(s.durationSlots()) / 60),
        clock.start(s.earliestStart()).toString(),
        clock.start(s.latestEnd()).toString(),
        Price.format(s.limitPrice()),
        s.minNoticeSeconds(),
        regions,
        s.timeInForce().name(),
        s.expiresAtMillis() == BidSpec.NO_EXPIRY || s.timeInForce() == TimeInForce.IOC
            ? null
            : Instant.ofEpochMilli(s.expiresAtMillis()).toString(),
        s.requeue(),
        s.minConfidencePpm() == 0 ? null : Json.ppm(s.minConfidencePpm()),
        s.avoidPools().isEmpty() ? null : s.avoidPools().stream().map(Ids::pool).toList(),
        s.requeueAvoidsPool(),
        Price.format(e.reserved()),
        reason == null || reason == Reason.NONE ? null : reason.name(),
        Instant.ofEpochMilli(e.atMillis()).toString());
  }
}
