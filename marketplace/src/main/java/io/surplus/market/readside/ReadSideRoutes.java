package io.surplus.market.readside;

import io.surplus.engine.Price;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.PageCache;
import io.surplus.market.http.Problem;
import io.surplus.market.http.Role;
import io.surplus.market.ids.Ids;
import io.surplus.market.readside.ReadSide.EpochRecord;
import io.surplus.market.readside.ReadSide.LeaseRow;
import io.surplus.market.settings.Settings;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Read-side endpoints: a bidder's leases, and each market's trades, candles and epoch records. All
 * come from the projected tables, so they trail the clearing by the projection's lag (about half a
 * second on one node).
 */
public final class ReadSideRoutes {

  @com.fasterxml.jackson.annotation.JsonInclude(
      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record LeaseView(
      String id,
      String bidId,
      String gpuModel,
      int nodes,
      int gpusPerNode,
      String start,
      String end,
      String price,
      String cost,
      String status,
      String preemptAt,
      String preemptKind,
      long epoch,
      String clearedAt) {}

  public record LeaseList(List<LeaseView> leases, String nextCursor) {}

  public record TradeView(
      String clearedAt,
      long epoch,
      String price,
      int nodes,
      int gpusPerNode,
      String gpuHours,
      String start,
      String end) {}

  public record TradeList(String gpuModel, List<TradeView> trades, String nextCursor) {}

  public record CandleView(
      String start,
      String open,
      String high,
      String low,
      String close,
      String volumeGpuHours,
      String notional,
      int trades) {}

  public record CandleList(String gpuModel, String interval, List<CandleView> candles) {}

  public record EpochView(
      String gpuModel,
      long epoch,
      String clearedAt,
      String clearingPrice,
      String marginalLimitPrice,
      int leases,
      int filledNodes,
      String gpuHours,
      String notional,
      int openBids,
      Map<String, Integer> unfilledByReason,
      int expired,
      int unfilledIoc) {}

  /** Candles returned when no range is given. */
  public static final int DEFAULT_CANDLES = 120;

  private final Settings settings;
  private final ReadSide readSide;

  /**
   * Public market pages (trades, candles, epoch records) as every reader shares them: one read of
   * Cassandra per page per half second, however many read it (the read side itself lags the epoch
   * by about 1.5 s).
   */
  public static final Duration SHARED_PAGE_TTL = Duration.ofMillis(500);

  private final PageCache pages = new PageCache(SHARED_PAGE_TTL, 4096, System::nanoTime);

  /** A public handler whose pages are shared through {@link #pages}, by path and query. */
  private Api.Handler shared(Api.Handler handler) {
    return call ->
        pages.get(
            call,
            call.request().getUri().path()
                + "?"
                + call.request().getUri().rawQueryString().orElse(""),
            () -> handler.handle(call));
  }

  public ReadSideRoutes(Settings settings, ReadSide readSide) {
    this.settings = settings;
    this.readSide = readSide;
  }

  public List<Endpoint> endpoints() {
    Set<Role> bidder = Set.of(Role.BIDDER);
    return List.of(
        Endpoint.of("GET", "/v1/leases", bidder, this::leases),
        Endpoint.of("GET", "/v1/leases/{id}", bidder, this::lease),
        Endpoint.of("GET", "/v1/provider/statement", Set.of(Role.PROVIDER), this::statement),
        Endpoint.of("GET", "/v1/markets/{gpuModel}/trades", Set.of(), shared(this::trades)),
        Endpoint.of("GET", "/v1/markets/{gpuModel}/candles", Set.of(), shared(this::candles)),
        Endpoint.of("GET", "/v1/markets/{gpuModel}/epochs/{n}", Set.of(), shared(this::epoch)));
  }

  static Problem badQuery(String field, String detail) {
    return Problem.of(400, "invalid-query", "A query parameter is invalid", detail, field);
  }

  static String hours(long gpuSeconds) {
    return BigDecimal.valueOf(gpuSeconds)
        .divide(BigDecimal.valueOf(3600), 6, java.math.RoundingMode.DOWN)
        .stripTrailingZeros()
        .toPlainString();
  }

  LeaseView view(LeaseRow l) {
    Instant now = Instant.now();
    String status;
    if (l.preemptAt() != null && l.preemptAt().isBefore(l.end())) {
      status = now.isBefore(l.preemptAt()) ? "notified" : "preempted";
    } else {
      status =
          now.isBefore(l.start()) ? "scheduled" : now.isBefore(l.end()) ? "running" : "completed";
    }
    long cost =
        Price.cost(
            l.priceMicros(),
            l.nodes(),
            l.gpusPerNode(),
            l.end().getEpochSecond() - l.start().getEpochSecond());
    return new LeaseView(
        Ids.lease(l.market(), l.leaseId()),
        Ids.bid(l.bidId()),
        l.market(),
        l.nodes(),
        l.gpusPerNode(),
        l.start().toString(),
        l.end().toString(),
        Price.format(l.priceMicros()),
        Price.format(cost),
        status,
        l.preemptAt() == null ? null : l.preemptAt().toString(),
        l.preemptKind(),
        l.epoch(),
        l.clearedAt().toString());
  }

  /**
   * {@code GET /v1/leases}: one page of the caller's leases, newest first. Bounded: at most {@value
   * ReadSide#LEASE_MONTHS} month partitions and {@value ReadSide#MAX_LEASE_QUERIES} queries, {@code
   * limit} rows (at most {@value ReadSide#MAX_PAGE}); a cursor that is not this account's {@code
   * nextCursor} is a {@code 400} naming {@code cursor}.
   */
  private CompletionStage<HttpResponse> leases(Call call) {
    int limit = limit(call);
    return cursorChecked(
            () ->
                readSide.leases(
                    call.principal().account(), call.query("cursor").orElse(null), limit))
        .thenApply(
            p ->
                Api.json(
                    200, new LeaseList(p.items().stream().map(this::view).toList(), p.next())));
  }

  private CompletionStage<HttpResponse> lease(Call call) {
    String id = call.param("id");
    Problem missing = Problem.notFound("no lease " + id + " in this account");
    Ids.LeaseRef ref = Ids.parseLease(id);
    if (ref == null) {
      throw missing.failure();
    }
    String market = ref.market();
    long n = ref.n();
    if (!settings.hasMarket(market)) {
      throw missing.failure();
    }
    long account = call.principal().account();
    return readSide
        .lease(market, n)
        .thenApply(
            row -> {
              if (row.isEmpty() || row.get().account() != account) {
                throw missing.failure();
              }
              return Api.json(200, view(row.get()));
            });
  }

  /** A query whose {@link IllegalArgumentException} can only be about its cursor: 400 naming it. */
  private static <T> CompletionStage<T> cursorChecked(
      java.util.function.Supplier<CompletionStage<T>> query) {
    try {
      return query.get();
    } catch (IllegalArgumentException e) {
      throw badQuery("cursor", e.getMessage()).failure();
    }
  }

  /**
   * {@code GET /v1/markets/{gpuModel}/trades}: one page of one UTC day's trades. Bounded: one
   * partition query, or at most {@value ReadSide#LATEST_DAYS} to find the latest day with trades;
   * at most {@value ReadSide#MAX_PAGE} rows. A cursor not made for this market (and day) is a
   * {@code 400} naming {@code cursor}.
   */
  private CompletionStage<HttpResponse> trades(Call call) {
    String model = call.market(settings);
    LocalDate day = null;
    if (call.query("day").isPresent()) {
      try {
        day = LocalDate.parse(call.query("day").get());
      } catch (DateTimeParseException e) {
        throw badQuery("day", "day must be a UTC date such as 2026-11-23").failure();
      }
    }
    LocalDate d = day;
    int limit = limit(call);
    return cursorChecked(() -> readSide.trades(model, d, call.query("cursor").orElse(null), limit))
        .thenApply(
            p ->
                Api.json(
                    200,
                    new TradeList(
                        model,
                        p.items().stream()
                            .map(
                                t ->
                                    new TradeView(
                                        t.clearedAt().toString(),
                                        t.epoch(),
                                        Price.format(t.priceMicros()),
                                        t.nodes(),
                                        t.gpusPerNode(),
                                        hours(t.gpuSeconds()),
                                        t.start().toString(),
                                        t.end().toString()))
                            .toList(),
                        p.next())));
  }

  /**
   * {@code GET /v1/markets/{gpuModel}/candles}: candles in {@code [from, to)}. Bounded: {@code
   * from} and {@code to} lie in [{@link ReadSide#EARLIEST}, {@link ReadSide#LATEST}], and the range
   * covers at most {@value ReadSide#MAX_CANDLES} candles (a day of 1m, 15 days of 15m, 60 days of
   * 1h), so at most 61 day partitions; else {@code 400} naming the parameter.
   */
  /** One line of a provider's statement: one market's pool on one day, or over the whole span. */
  @com.fasterxml.jackson.annotation.JsonInclude(
      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record StatementLine(
      String market,
      String pool,
      String day,
      String offeredNodeHours,
      String revokedNodeHours,
      String soldNodeHours,
      String idleNodeHours,
      String sellThrough,
      String revenue,
      String averagePrice,
      String averageReserve,
      String refunds,
      int preemptions) {

    static StatementLine of(Statement.Line l) {
      return new StatementLine(
          l.market(),
          l.pool(),
          l.day() == null ? null : l.day().toString(),
          hours(l.offeredNodeSeconds()),
          hours(l.revokedNodeSeconds()),
          hours(l.soldNodeSeconds()),
          hours(l.idleNodeSeconds()),
          BigDecimal.valueOf(l.sellThrough())
              .setScale(4, java.math.RoundingMode.HALF_EVEN)
              .toPlainString(),
          Price.format(l.revenueMicros()),
          l.soldGpuSeconds() == 0 ? null : Price.format(l.averagePriceMicros()),
          l.offeredGpuSeconds() == 0 ? null : Price.format(l.averageReserveMicros()),
          Price.format(l.refundMicros()),
          l.preemptions());
    }
  }

  /** {@code GET /v1/provider/statement}: per pool and day, then per pool over the span. */
  public record StatementView(
      String from, String to, String pool, List<StatementLine> days, List<StatementLine> totals) {}

  /** The longest pool name a statement is asked for (the feed's limit). */
  static final int MAX_POOL = 64;

  /**
   * {@code GET /v1/provider/statement?from=&to=&pool=}: the calling provider's statement over the
   * UTC days {@code [from, to)} (dates, {@code to} exclusive; by default the last 7 days, today
   * included), at most {@value ProviderStatements#MAX_DAYS} days, of one pool or all. Only the
   * caller's own windows are read: the key names the provider.
   */
  private CompletionStage<HttpResponse> statement(Call call) {
    LocalDate to = date(call, "to", LocalDate.now(java.time.ZoneOffset.UTC).plusDays(1));
    LocalDate from = date(call, "from", to.minusDays(7));
    if (!from.isBefore(to)) {
      throw badQuery("from", "from must be before to").failure();
    }
    if (java.time.temporal.ChronoUnit.DAYS.between(from, to) > ProviderStatements.MAX_DAYS) {
      throw badQuery(
              "to",
              "at most " + ProviderStatements.MAX_DAYS + " days per statement; narrow from..to")
          .failure();
    }
    String pool = call.query("pool").orElse(null);
    if (pool != null && (pool.isBlank() || pool.length() > MAX_POOL)) {
      throw badQuery("pool", "pool must be 1 to " + MAX_POOL + " characters").failure();
    }
    return readSide
        .statement(call.principal().account(), from, to, pool)
        .thenApply(
            r ->
                Api.json(
                    200,
                    new StatementView(
                        from.toString(),
                        to.toString(),
                        pool,
                        r.days().stream().map(StatementLine::of).toList(),
                        r.totals().stream().map(StatementLine::of).toList())));
  }

  private static LocalDate date(Call call, String name, LocalDate fallback) {
    String v = call.query(name).orElse(null);
    if (v == null) {
      return fallback;
    }
    try {
      return LocalDate.parse(v);
    } catch (java.time.format.DateTimeParseException e) {
      throw badQuery(name, name + " must be a date, YYYY-MM-DD (UTC)").failure();
    }
  }

  private CompletionStage<HttpResponse> candles(Call call) {
    String model = call.market(settings);
    CandleInterval interval;
    try {
      interval = CandleInterval.parse(call.query("interval").orElse("1m"));
    } catch (IllegalArgumentException e) {
      throw badQuery("interval", "interval must be 1m, 15m or 1h").failure();
    }
    Instant to = instant(call, "to", Instant.now());
    Instant from = instant(call, "from", to.minusSeconds(interval.seconds() * DEFAULT_CANDLES));
    if (!from.isBefore(to)) {
      throw badQuery("from", "from must be before to").failure();
    }
    if ((to.getEpochSecond() - from.getEpochSecond()) / interval.seconds() > ReadSide.MAX_CANDLES) {
      throw badQuery(
              "to", "at most " + ReadSide.MAX_CANDLES + " candles per request; narrow from..to")
          .failure();
    }
    CompletionStage<List<ReadSide.Candle>> found;
    try {
      found = readSide.candles(model, interval, from, to);
    } catch (IllegalArgumentException e) {
      // the range grew past the limit by rounding from down to its bucket
      throw badQuery("to", e.getMessage()).failure();
    }
    return found.thenApply(
        list ->
            Api.json(
                200,
                new CandleList(
                    model,
                    interval.label(),
                    list.stream()
                        .map(
                            c ->
                                new CandleView(
                                    c.bucketStart().toString(),
                                    Price.format(c.openMicros()),
                                    Price.format(c.highMicros()),
                                    Price.format(c.lowMicros()),
                                    Price.format(c.closeMicros()),
                                    hours(c.volumeGpuSeconds()),
                                    Price.format(c.notionalMicros()),
                                    c.trades()))
                        .toList())));
  }

  private CompletionStage<HttpResponse> epoch(Call call) {
    String model = call.market(settings);
    long n;
    try {
      n = Long.parseLong(call.param("n"));
    } catch (NumberFormatException e) {
      throw badQuery("n", "the epoch number must be a positive integer").failure();
    }
    if (n < 1) {
      throw badQuery("n", "the epoch number must be a positive integer").failure();
    }
    return readSide
        .epoch(model, n)
        .thenApply(
            r -> {
              if (r.isEmpty()) {
                throw Problem.notFound("no epoch " + n + " of " + model + " (yet)").failure();
              }
              EpochRecord e = r.get();
              return Api.json(
                  200,
                  new EpochView(
                      model,
                      e.epoch(),
                      e.clearedAt().toString(),
                      e.clearingPriceMicros() == 0 ? null : Price.format(e.clearingPriceMicros()),
                      e.hasMarginal() ? Price.format(e.marginalLimitMicros()) : null,
                      e.leases(),
                      e.filledNodes(),
                      hours(e.gpuSeconds()),
                      Price.format(e.notionalMicros()),
                      e.openBids(),
                      new TreeMap<>(e.unfilled()),
                      e.expired(),
                      e.unfilledIoc()));
            });
  }

  static Instant instant(Call call, String name, Instant fallback) {
    if (call.query(name).isEmpty()) {
      return fallback;
    }
    Instant instant;
    try {
      instant = Instant.parse(call.query(name).get());
    } catch (DateTimeParseException e) {
      throw badQuery(name, name + " must be an ISO-8601 instant").failure();
    }
    try {
      ReadSide.checkRange(name, instant);
    } catch (IllegalArgumentException e) {
      throw badQuery(name, e.getMessage()).failure();
    }
    return instant;
  }

  static int limit(Call call) {
    String text = call.query("limit").orElse("100");
    try {
      int limit = Integer.parseInt(text);
      if (limit >= 1 && limit <= ReadSide.MAX_PAGE) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw badQuery("limit", "limit must be 1 to " + ReadSide.MAX_PAGE).failure();
  }
}
