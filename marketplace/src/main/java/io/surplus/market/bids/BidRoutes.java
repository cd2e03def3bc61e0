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
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The bid API: place (one or a batch), preview, list, show, cancel. The routes parse, call and
 * render; a bid's placement (reserve in the account, place in the market, confirm) is {@link
 * BidPlacement}'s. A bid is acknowledged ({@code 201}) only after its market's journal write. A
 * retry with the same key and body answers the same bid; with another body it is refused.
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

  private final Settings settings;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final BidPlacement placement;

  public BidRoutes(ActorSystem<?> system, Settings settings, BidPlacement placement) {
    this.settings = settings;
    this.sharding = ClusterSharding.get(system);
    this.timeout = settings.askTimeout();
    this.placement = placement;
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
    BidPlacement.Priced p =
        placement.price(key, ApiKeys.sha256(call.body()), request, System.currentTimeMillis());
    return placement
        .placeOne(call.principal().account(), p)
        .thenApply(
            placed -> {
              BidView v = view(placed.entry(), placed.reason());
              return Api.json(201, v)
                  .addHeader(RawHeader.create("Location", "/v1/bids/" + v.id()))
                  .addHeader(
                      RawHeader.create("Idempotent-Replayed", Boolean.toString(placed.replay())));
            });
  }

  /** The id a previewed bid has on the market's copy: the account's, past any it will use. */
  static long previewId(long accountId) {
    return (accountId << 32) | 0xFFFF_FFFFL;
  }

  private CompletionStage<HttpResponse> preview(Call call) {
    BidRequest request = Json.read(call.body(), BidRequest.class);
    long accountId = call.principal().account();
    BidPlacement.Priced p = placement.price(null, null, request, System.currentTimeMillis());
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
                throw BidPlacement.refused(quote.refused()).failure();
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
    List<BidPlacement.Priced> valid = new ArrayList<>(n);
    List<CompletableFuture<BidPlacement.Placed>> validItems = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      CompletableFuture<BidPlacement.Placed> placed = new CompletableFuture<>();
      try {
        String itemJson = Json.write(batch.bids().get(i));
        BidRequest request = Json.read(itemJson, BidRequest.class);
        valid.add(placement.price(batchItemKey(key, i), ApiKeys.sha256(itemJson), request, now));
        validItems.add(placed);
      } catch (RuntimeException e) {
        placed.completeExceptionally(e);
      }
      int index = i;
      items.add(
          placed
              .thenApply(p -> new BatchItem(index, 201, view(p.entry(), p.reason()), null))
              .exceptionally(
                  t ->
                      new BatchItem(
                          index,
                          apiResponse(t).status().intValue(),
                          null,
                          problemOf(t).withIndex(index))));
    }
    List<CompletableFuture<BidPlacement.Placed>> placed = placement.placeAll(account, valid, now);
    for (int j = 0; j < placed.size(); j++) {
      BidPlacement.relay(placed.get(j), validItems.get(j));
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
    if (c instanceof java.util.concurrent.TimeoutException
        || c instanceof Api.Unavailable
        || Api.storeBusy(c)) {
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

  /** The bid as {@link BidPlacement#bid} finds it, rendered. */
  private CompletionStage<BidView> show(long accountId, long bidId) {
    return placement.bid(accountId, bidId).thenApply(b -> view(b.entry(), b.reason()));
  }

  private CompletionStage<HttpResponse> cancel(Call call) {
    long id = ownBidId(call);
    long accountId = call.principal().account();
    call.header("Idempotency-Key").ifPresent(k -> call.idempotencyKey());
    return account(accountId)
        .<Account.BidFound>ask(r -> new Account.GetBid(id, r), timeout)
        .thenCompose(
            v -> {
              if (v.entry() == null) {
                throw Problem.notFound("no bid " + Ids.bid(id) + " in this account").failure();
              }
              if (v.entry().status() == Account.BidStatus.CANCELLED) {
                return CompletableFuture.completedFuture(view(v.entry(), null));
              }
              if (v.entry().status().closed()) {
                throw bidClosed(
                    "bid "
                        + Ids.bid(id)
                        + " is "
                        + v.entry().status().name().toLowerCase(Locale.ROOT)
                        + " and cannot be cancelled");
              }
              return market(v.entry().market())
                  .<Market.Outcome>ask(
                      r -> new MarketGate.Forward(new Market.CancelBid(id, r)), timeout)
                  .thenCompose(
                      o -> {
                        if (o.code() != ResultCode.OK) {
                          throw bidClosed(
                              "bid "
                                  + Ids.bid(id)
                                  + " is no longer in the book (filled or expired)");
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

  /** A cancel that came too late: the bid is closed, for the reason {@code detail} gives. */
  private static Problem.Failure bidClosed(String detail) {
    return Problem.of(409, "bid-closed", "The bid is closed", detail, null).failure();
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
