package io.surplus.market.markets;

import io.surplus.engine.Price;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.Depth;
import io.surplus.engine.book.WindowProfile;
import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.ApiKeys;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.EntityTags;
import io.surplus.market.http.Fields;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.http.Role;
import io.surplus.market.ids.Ids;
import io.surplus.market.settings.Settings;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Public market data from the live books ({@code /v1/markets}, the aggregated depth) and the
 * providers' window offers ({@code POST /v1/windows}, until the capacity feed takes over).
 */
public final class MarketRoutes {

  public record MarketView(
      String gpuModel,
      int gpusPerNode,
      long epoch,
      String lastClearingPrice,
      String bestBid,
      String bestReserve,
      long openBidNodes,
      long freeNodes,
      MarketRules rules) {}

  /**
   * The rules a bid in a market must follow, so a client can build a valid bid without trial and
   * error: the slot grid and horizon that time windows round to, the price tick and cap, sizes and
   * durations, how often the market clears and at what price.
   *
   * @param slotSeconds the slot length: windows round inward to the UTC grid of slots, a duration
   *     rounds up to whole slots
   * @param horizon how far ahead (ISO-8601 duration) a bid's {@code latestEnd} may lie
   * @param priceTick the smallest price step (USD per GPU-hour)
   * @param maxLimitPrice the highest limit price accepted
   * @param maxNodesPerBid the most nodes one bid may ask for
   * @param minDurationMinutes the shortest duration (one slot, after rounding up)
   * @param maxDurationMinutes the longest duration: the horizon
   * @param maxNoticeSeconds the longest {@code minNoticeSeconds}
   * @param epochInterval how often the market clears (ISO-8601 duration)
   * @param pricingRule {@code PAY_AS_CLEAR} (uniform) or {@code PAY_AS_BID}
   * @param timeInForce the accepted values
   * @param regions the region names a bid may restrict itself to
   * @param maxBatchBids the most bids in one {@code POST /v1/bids/batch}
   */
  public record MarketRules(
      int slotSeconds,
      String horizon,
      String priceTick,
      String maxLimitPrice,
      int gpusPerNode,
      int maxNodesPerBid,
      long minDurationMinutes,
      long maxDurationMinutes,
      int maxNoticeSeconds,
      String epochInterval,
      String pricingRule,
      List<String> timeInForce,
      List<String> regions,
      int maxBatchBids) {

    public static MarketRules of(Settings settings, String model) {
      SlotClock clock = settings.clock();
      long horizonSeconds = clock.seconds(clock.horizonSlots());
      return new MarketRules(
          clock.slotSeconds(),
          Duration.ofSeconds(horizonSeconds).toString(),
          Price.format(1),
          Price.format(Price.MAX_MICROS),
          settings.gpusPerNode(model),
          io.surplus.engine.BidSpec.MAX_NODES,
          Math.max(1, clock.slotSeconds() / 60),
          horizonSeconds / 60,
          Fields.MAX_NOTICE_SECONDS,
          settings.epochInterval().toString(),
          settings.pricing().name(),
          List.of("GTC", "IOC"),
          settings.regions(),
          settings.maxBatchBids());
    }
  }

  public record BidLevelView(String limitPrice, int bids, long nodes, long cumulativeNodes) {}

  public record WindowLevelView(
      String reservePrice,
      int windows,
      long freeNodes,
      String freeNodeHours,
      long cumulativeFreeNodes) {}

  public record BookView(
      String gpuModel,
      String asOf,
      long epoch,
      String lastClearingPrice,
      List<BidLevelView> bids,
      List<WindowLevelView> windows) {}

  /** Slots of one window with the same capacity: nodes offered, leased, free and taken back. */
  public record CapacityRunView(
      String start, String end, int offered, int allocated, int free, int revoked) {}

  /**
   * One window on the public timeline: no provider and no window id; its pool as a pseudonym that
   * stays the same for the pool's windows.
   */
  public record TimelineWindowView(
      String pool,
      String region,
      int nodes,
      int gpusPerNode,
      String start,
      String end,
      String reservePrice,
      int noticeSeconds,
      String confidence,
      List<CapacityRunView> runs) {}

  /** The timeline summed: nodes in the current slot, node-hours from now to the windows' ends. */
  public record TimelineTotalsView(
      int windows,
      long offeredNodesNow,
      long allocatedNodesNow,
      long freeNodesNow,
      String offeredNodeHours,
      String allocatedNodeHours,
      String freeNodeHours) {}

  /** {@code GET /v1/markets/{gpuModel}/windows}: the market's capacity over the horizon. */
  public record TimelineView(
      String gpuModel,
      String asOf,
      long epoch,
      int slotSeconds,
      String horizonEnd,
      TimelineTotalsView totals,
      List<TimelineWindowView> windows) {}

  /** The body of {@code POST /v1/windows}. */
  public record WindowRequest(
      String gpuModel,
      String pool,
      String region,
      Integer nodes,
      Integer gpusPerNode,
      String start,
      String end,
      String reservePrice,
      Integer noticeSeconds,
      String confidence) {}

  public record WindowView(
      String id,
      String gpuModel,
      String pool,
      String region,
      int nodes,
      int gpusPerNode,
      String start,
      String end,
      String reservePrice,
      int noticeSeconds,
      String confidence) {}

  private final Settings settings;

  /** Each market's rules, built once: they come from settings fixed at start. */
  private final java.util.Map<String, MarketRules> rules =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final ClusterSharding sharding;
  private final Duration timeout;

  private final MarketViews views;

  public MarketRoutes(ActorSystem<?> system, Settings settings, MarketTopics topics) {
    this.settings = settings;
    this.sharding = ClusterSharding.get(system);
    this.timeout = settings.askTimeout();
    this.views = MarketViews.start(system, topics.views(), this::render);
  }

  /** This node's views of every market, which these routes answer from. */
  public MarketViews views() {
    return views;
  }

  public List<Endpoint> endpoints() {
    return List.of(
        Endpoint.of("GET", "/v1/markets", Set.of(), this::markets),
        Endpoint.of("GET", "/v1/markets/{gpuModel}", Set.of(), this::market),
        Endpoint.of("GET", "/v1/markets/{gpuModel}/book", Set.of(), this::book),
        Endpoint.of("GET", "/v1/markets/{gpuModel}/windows", Set.of(), this::windows),
        Endpoint.of("POST", "/v1/windows", Set.of(Role.PROVIDER), this::offer));
  }

  private EntityRef<MarketGate.Message> market(String model) {
    return sharding.entityRefFor(MarketGate.ENTITY_KEY, model);
  }

  /**
   * Renders one market's view into the bytes every read of it sends: done once per publication, on
   * the view subscriber's thread.
   */
  MarketViews.Rendered render(Market.ViewPublished v) {
    String model = v.gpuModel();
    String price = v.lastClearingPrice() == 0 ? null : Price.format(v.lastClearingPrice());
    Depth depth = v.depth();
    MarketView summary =
        new MarketView(
            model,
            settings.gpusPerNode(model),
            v.epoch(),
            price,
            depth.bids().isEmpty() ? null : Price.format(depth.bids().get(0).limitPrice()),
            depth.windows().isEmpty() ? null : Price.format(depth.windows().get(0).reservePrice()),
            depth.bids().stream().mapToLong(Depth.BidLevel::nodes).sum(),
            depth.windows().stream().mapToLong(Depth.WindowLevel::freeNodes).sum(),
            rules.computeIfAbsent(model, m -> MarketRules.of(settings, m)));
    List<BidLevelView> bids = new ArrayList<>(depth.bids().size());
    long cum = 0;
    for (Depth.BidLevel l : depth.bids()) {
      cum += l.nodes();
      bids.add(new BidLevelView(Price.format(l.limitPrice()), l.bids(), l.nodes(), cum));
    }
    List<WindowLevelView> windows = new ArrayList<>(depth.windows().size());
    cum = 0;
    for (Depth.WindowLevel l : depth.windows()) {
      cum += l.freeNodes();
      windows.add(
          new WindowLevelView(
              Price.format(l.reservePrice()),
              l.windows(),
              l.freeNodes(),
              nodeHours(l.freeNodeSlots()),
              cum));
    }
    String asOf = Instant.ofEpochMilli(v.atMillis()).toString();
    return new MarketViews.Rendered(
        v.epoch(),
        v.atMillis(),
        Json.write(summary).getBytes(StandardCharsets.UTF_8),
        Json.write(new BookView(model, asOf, v.epoch(), price, bids, windows))
            .getBytes(StandardCharsets.UTF_8),
        Json.write(timeline(model, v.atMillis(), v.epoch(), v.windows()))
            .getBytes(StandardCharsets.UTF_8),
        "\"" + model + "-" + v.epoch() + "-" + Long.toString(v.atMillis(), 36) + "\"");
  }

  /** The latest view of a market, or a 503 while its market has not published one yet. */
  private MarketViews.Rendered view(String model) {
    MarketViews.Rendered r = views.get(model);
    if (r == null) {
      throw new Api.Unavailable("market data of " + model + " is not published yet", null);
    }
    return r;
  }

  /** Sends a view's bytes with its entity tag; a client that has them gets a 304. */
  private static CompletionStage<HttpResponse> send(Call call, String etag, byte[] json) {
    return send(call, etag, json, json.length);
  }

  private static CompletionStage<HttpResponse> send(
      Call call, String etag, byte[] json, int length) {
    return CompletableFuture.completedFuture(EntityTags.json(call, etag, json, length));
  }

  private static final byte[] MARKETS_OPEN = "{\"markets\":[".getBytes(StandardCharsets.UTF_8);

  private CompletionStage<HttpResponse> markets(Call call) {
    List<MarketViews.Rendered> all = new ArrayList<>(settings.markets().size());
    StringBuilder etag = new StringBuilder("\"");
    int size = MARKETS_OPEN.length + 2;
    for (String model : settings.markets().keySet()) {
      MarketViews.Rendered r = view(model);
      all.add(r);
      etag.append(r.etag(), 1, r.etag().length() - 1).append('.');
      size += r.summary().length + 1;
    }
    byte[] json = new byte[size];
    System.arraycopy(MARKETS_OPEN, 0, json, 0, MARKETS_OPEN.length);
    int at = MARKETS_OPEN.length;
    for (int i = 0; i < all.size(); i++) {
      if (i > 0) {
        json[at++] = ',';
      }
      byte[] line = all.get(i).summary();
      System.arraycopy(line, 0, json, at, line.length);
      at += line.length;
    }
    json[at++] = ']';
    json[at++] = '}';
    return send(call, etag.append('"').toString(), json, at);
  }

  /** {@code GET /v1/markets/{gpuModel}}: one market's line of the list, its rules included. */
  private CompletionStage<HttpResponse> market(Call call) {
    MarketViews.Rendered r = view(call.market(settings));
    return send(call, r.etag(), r.summary());
  }

  private CompletionStage<HttpResponse> book(Call call) {
    MarketViews.Rendered r = view(call.market(settings));
    return send(call, r.etag(), r.book());
  }

  private CompletionStage<HttpResponse> windows(Call call) {
    MarketViews.Rendered r = view(call.market(settings));
    return send(call, r.etag(), r.windows());
  }

  TimelineView timeline(String model, long now, long epoch, List<WindowProfile> profiles) {
    SlotClock clock = settings.clock();
    int nowSlot = clock.slotAtOrBefore(now);
    long offeredNow = 0;
    long allocatedNow = 0;
    long freeNow = 0;
    long offeredSlots = 0;
    long allocatedSlots = 0;
    long freeSlots = 0;
    List<TimelineWindowView> windows = new ArrayList<>(profiles.size());
    for (WindowProfile w : profiles) {
      WindowSpec spec = w.spec();
      List<CapacityRunView> runs = new ArrayList<>(w.runs().size());
      for (WindowProfile.Run r : w.runs()) {
        int slots = r.toSlot() - r.fromSlot();
        offeredSlots += (long) r.offeredNodes() * slots;
        allocatedSlots += (long) r.allocatedNodes() * slots;
        freeSlots += (long) r.freeNodes() * slots;
        if (r.fromSlot() <= nowSlot && nowSlot < r.toSlot()) {
          offeredNow += r.offeredNodes();
          allocatedNow += r.allocatedNodes();
          freeNow += r.freeNodes();
        }
        runs.add(
            new CapacityRunView(
                clock.start(r.fromSlot()).toString(),
                clock.start(r.toSlot()).toString(),
                r.offeredNodes(),
                r.allocatedNodes(),
                r.freeNodes(),
                spec.nodes() - r.offeredNodes()));
      }
      windows.add(
          new TimelineWindowView(
              poolLabel(spec.provider(), spec.pool()),
              spec.region() < settings.regions().size()
                  ? settings.regions().get(spec.region())
                  : "region-" + spec.region(),
              spec.nodes(),
              spec.gpusPerNode(),
              clock.start(spec.startSlot()).toString(),
              clock.start(w.endSlot()).toString(),
              Price.format(spec.reservePrice()),
              spec.noticeSeconds(),
              Json.ppm(spec.confidencePpm()),
              List.copyOf(runs)));
    }
    return new TimelineView(
        model,
        Instant.ofEpochMilli(now).toString(),
        epoch,
        clock.slotSeconds(),
        clock.start(clock.slotAtOrAfter(now) + clock.horizonSlots()).toString(),
        new TimelineTotalsView(
            windows.size(),
            offeredNow,
            allocatedNow,
            freeNow,
            nodeHours(offeredSlots),
            nodeHours(allocatedSlots),
            nodeHours(freeSlots)),
        windows);
  }

  /**
   * Node-slots as node-hours, a decimal string cut to 6 places (a slot of 15 s is 1/240 hour, which
   * has no exact decimal).
   */
  private String nodeHours(long nodeSlots) {
    return BigDecimal.valueOf(nodeSlots * settings.clock().slotSeconds())
        .divide(BigDecimal.valueOf(3600), 6, java.math.RoundingMode.DOWN)
        .stripTrailingZeros()
        .toPlainString();
  }

  /**
   * The public name of a provider's pool: a stable pseudonym (the same for all its windows, on
   * every node), so the board can draw a row per pool without naming the pool or its provider. It
   * hides names from view, not from someone who guesses them and hashes each guess. Bids name the
   * pools they avoid by it.
   */
  static String poolLabel(long provider, int pool) {
    return Ids.pool(WindowSpec.poolKey(provider, pool));
  }

  private CompletionStage<HttpResponse> offer(Call call) {
    String key = call.idempotencyKey();
    WindowRequest w = Json.read(call.body(), WindowRequest.class);
    long now = System.currentTimeMillis();
    WindowSpec spec = toSpec(w, now, 1);
    long provider = call.principal().account();
    return sharding
        .entityRefFor(Account.ENTITY_KEY, Long.toString(provider))
        .<Account.Reservation>ask(
            r ->
                new Account.ReserveWindow(
                    key, ApiKeys.sha256(call.body()), w.gpuModel(), now + timeout.toMillis(), r),
            timeout)
        .thenCompose(
            res -> {
              if (res instanceof Account.KeyReused) {
                throw Problem.keyReused().failure();
              }
              if (res instanceof Account.TooLate) {
                throw new Api.Unavailable("the window id came too late", null);
              }
              if (!(res instanceof Account.Reserved r)) {
                throw Problem.unauthorized("the account does not exist").failure();
              }
              WindowSpec placed = toSpec(w, now, r.windowOrBidId());
              WindowSpec owned =
                  new WindowSpec(
                      placed.id(),
                      provider,
                      placed.pool(),
                      placed.region(),
                      placed.nodes(),
                      placed.gpusPerNode(),
                      placed.startSlot(),
                      placed.endSlot(),
                      placed.reservePrice(),
                      placed.noticeSeconds(),
                      placed.confidencePpm());
              return market(w.gpuModel())
                  .<Market.Outcome>ask(
                      o -> new MarketGate.Forward(new Market.OfferWindow(owned, w.pool(), now, o)),
                      timeout)
                  .thenApply(
                      o -> {
                        if (o.code() != ResultCode.OK
                            && !(r.replay() && o.code() == ResultCode.DUPLICATE_ID)) {
                          throw (o.code() == ResultCode.IN_THE_PAST
                                  ? Problem.invalid("end", "end is in the past")
                                  : Problem.invalid("end", "end is beyond the horizon"))
                              .failure();
                        }
                        WindowView v = view(w, owned);
                        return Api.json(201, v)
                            .addHeader(
                                RawHeader.create(
                                    "Idempotent-Replayed", Boolean.toString(r.replay())));
                      });
            });
  }

  WindowView view(WindowRequest w, WindowSpec s) {
    SlotClock clock = settings.clock();
    return new WindowView(
        Ids.window(s.id()),
        w.gpuModel(),
        w.pool(),
        w.region(),
        s.nodes(),
        s.gpusPerNode(),
        clock.start(s.startSlot()).toString(),
        clock.start(s.endSlot()).toString(),
        Price.format(s.reservePrice()),
        s.noticeSeconds(),
        Json.ppm(s.confidencePpm()));
  }

  /** Checks a window request and makes the engine's window, or names the field that is wrong. */
  WindowSpec toSpec(WindowRequest w, long now, long id) {
    if (w.gpuModel() == null) {
      throw Problem.missing("gpuModel").failure();
    }
    if (!settings.hasMarket(w.gpuModel())) {
      throw Problem.invalid(
              "gpuModel",
              "unknown GPU model '" + w.gpuModel() + "'; markets: " + settings.markets().keySet())
          .failure();
    }
    if (w.pool() == null) {
      throw Problem.missing("pool").failure();
    }
    if (!w.pool().matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw Problem.invalid("pool", "pool must be 1-63 lower-case letters, digits or '-'")
          .failure();
    }
    if (w.region() == null) {
      throw Problem.missing("region").failure();
    }
    int region = settings.regions().indexOf(w.region());
    if (region < 0) {
      throw Problem.invalid(
              "region", "unknown region '" + w.region() + "'; regions: " + settings.regions())
          .failure();
    }
    if (w.nodes() == null) {
      throw Problem.missing("nodes").failure();
    }
    if (w.nodes() < 1 || w.nodes() > WindowSpec.MAX_NODES) {
      throw Problem.invalid("nodes", "nodes must be between 1 and " + WindowSpec.MAX_NODES)
          .failure();
    }
    int gpus = settings.gpusPerNode(w.gpuModel());
    if (w.gpusPerNode() != null && w.gpusPerNode() != gpus) {
      throw Problem.invalid(
              "gpusPerNode", w.gpuModel() + " nodes have " + gpus + " GPUs in this market")
          .failure();
    }
    long reserve = Fields.price("reservePrice", w.reservePrice());
    if (w.noticeSeconds() == null) {
      throw Problem.missing("noticeSeconds").failure();
    }
    if (w.noticeSeconds() < 0 || w.noticeSeconds() > Fields.MAX_NOTICE_SECONDS) {
      throw Problem.invalid(
              "noticeSeconds", "noticeSeconds must be between 0 and " + Fields.MAX_NOTICE_SECONDS)
          .failure();
    }
    int confidence = 1_000_000;
    if (w.confidence() != null) {
      try {
        BigDecimal c = new BigDecimal(w.confidence());
        if (c.signum() < 0 || c.compareTo(BigDecimal.ONE) > 0 || c.scale() > 6) {
          throw new NumberFormatException();
        }
        confidence = c.movePointRight(6).intValueExact();
      } catch (NumberFormatException | ArithmeticException e) {
        throw Problem.invalid(
                "confidence", "confidence must be a decimal string from 0 to 1, at most 6 decimals")
            .failure();
      }
    }
    Instant start = Fields.instant("start", w.start());
    Instant end = Fields.instant("end", w.end());
    WindowSlots slots = WindowSlots.of(settings.clock(), start, end, now);
    int s = slots.start();
    int e = slots.end();
    return new WindowSpec(
        id,
        0,
        WindowSlots.poolId(w.pool()),
        region,
        w.nodes(),
        gpus,
        s,
        e,
        reserve,
        w.noticeSeconds(),
        confidence);
  }
}
