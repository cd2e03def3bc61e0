package io.surplus.market.readside;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.surplus.engine.SlotClock;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Queries over the read-side tables: a bidder's leases, one lease, a market's anonymous trade tape,
 * its candles and its public epoch records. Every call does bounded work, whatever it is given: it
 * reads one bounded partition or a bounded walk over a few (at most {@value #LEASE_MONTHS} month
 * partitions and {@value #MAX_LEASE_QUERIES} queries for a page of leases, {@value #LATEST_DAYS}
 * day partitions to find the latest trades, {@value #MAX_CANDLES} candles over at most 61 day
 * partitions). Pages are at most {@value #MAX_PAGE} rows; a page's {@code next} cursor is opaque,
 * signed for the query it belongs to (see {@link PageCursor}), and null on the last page. Money is
 * micro-dollars.
 */
public final class ReadSide {

  /** The largest page any query returns; a larger {@code limit} is lowered to it. */
  public static final int MAX_PAGE = 500;

  /** Months of leases a walk visits, the current one included. */
  public static final int LEASE_MONTHS = 12;

  /** Days searched back from today for the latest trading day. */
  public static final int LATEST_DAYS = 31;

  /** Candles one call may ask for: a day of 1m candles. */
  public static final int MAX_CANDLES = 1440;

  /**
   * Queries one page of leases may make: one per month partition, plus a few for paging inside one.
   * A page that reaches it ends early, with a cursor where it stopped.
   */
  public static final int MAX_LEASE_QUERIES = 16;

  /** Earliest instant a candle query may name: long before any market of this service. */
  public static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");

  /** Latest instant a candle query may name. */
  public static final Instant LATEST = Instant.parse("2100-01-01T00:00:00Z");

  /** A page of rows, newest first, and the cursor of the next page (null when there is none). */
  public record Page<T>(List<T> items, String next) {
    public Page {
      items = List.copyOf(items);
    }

    public boolean hasMore() {
      return next != null;
    }
  }

  /** A lease as its bidder sees it. Prices are micro-dollars per GPU-hour. */
  public record LeaseRow(
      String market,
      long leaseId,
      long bidId,
      long account,
      long windowId,
      int nodes,
      int gpusPerNode,
      Instant start,
      Instant end,
      long priceMicros,
      long limitMicros,
      long epoch,
      Instant clearedAt,
      Instant preemptAt,
      String preemptKind,
      long noticeShortfallSeconds) {

    /** GPU-seconds held, exact: nodes x GPUs per node x seconds. */
    public long gpuSeconds() {
      return (long) nodes * gpusPerNode * Duration.between(start, end).toSeconds();
    }
  }

  /** One fill on the public tape: no account, no bid. */
  public record Trade(
      Instant clearedAt,
      long leaseId,
      long epoch,
      long priceMicros,
      int nodes,
      int gpusPerNode,
      long gpuSeconds,
      Instant start,
      Instant end) {}

  /** OHLC of the clearing prices of the epochs that filled in the bucket, and their volume. */
  public record Candle(
      CandleInterval interval,
      Instant bucketStart,
      long openMicros,
      long highMicros,
      long lowMicros,
      long closeMicros,
      long volumeGpuSeconds,
      long notionalMicros,
      int trades) {}

  /**
   * The public clearing record of one epoch. {@code marginalLimitMicros} is the clearing price when
   * a marginal bid exists and 0 otherwise; {@code unfilled} holds open bids per reason name (IOC
   * bids closed by this epoch included), reasons with none left out.
   */
  public record EpochRecord(
      String market,
      long epoch,
      Instant clearedAt,
      long clearingPriceMicros,
      boolean hasMarginal,
      long marginalLimitMicros,
      int leases,
      int filledNodes,
      long gpuSeconds,
      long notionalMicros,
      int openBids,
      Map<String, Integer> unfilled,
      int expired,
      int unfilledIoc) {
    public EpochRecord {
      unfilled = Map.copyOf(unfilled);
    }
  }

  private static final String LEASE_COLUMNS =
      "market, lease_id, bid_id, account, window_id, nodes, gpus_per_node, starts_at, ends_at,"
          + " price_micros, limit_micros, epoch, cleared_at, preempt_at, preempt_kind,"
          + " notice_shortfall_seconds";

  private final CqlSession session;
  private final Clock clock;
  private final PageCursor.Codec cursors;
  private final PreparedStatement leasesOfMonth;
  private final PreparedStatement leaseById;
  private final PreparedStatement tradesOfDay;
  private final PreparedStatement candlesOfDay;
  private final PreparedStatement epochByNumber;
  private final ProviderStatements providerStatements;

  private ReadSide(
      CqlSession session,
      Clock clock,
      PageCursor.Codec cursors,
      List<PreparedStatement> statements,
      ProviderStatements providerStatements) {
    this.providerStatements = providerStatements;
    this.session = session;
    this.clock = clock;
    this.cursors = cursors;
    this.leasesOfMonth = statements.get(0);
    this.leaseById = statements.get(1);
    this.tradesOfDay = statements.get(2);
    this.candlesOfDay = statements.get(3);
    this.epochByNumber = statements.get(4);
  }

  /**
   * Applies the schema, creates the projection's offset tables and starts the projection (a
   * one-instance {@code ShardedDaemonProcess}, so the system must run Cluster); completes with the
   * queries once all of that is done. Rows appear as the projection catches up.
   */
  public static CompletionStage<ReadSide> start(ActorSystem<?> system, SlotClock clock) {
    ReadSideSettings settings = ReadSideSettings.from(system.settings().config());
    CassandraSession cassandra =
        CassandraSessionRegistry.get(system).sessionFor(settings.sessionConfigPath());
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    return cassandra
        .underlying()
        .thenApplyAsync(
            session -> {
              new SchemaMigrator(session, settings)
                  .migrate(Migration.fromClasspath(ReadSide.class.getClassLoader()));
              return session;
            },
            blocking)
        .thenCompose(
            session ->
                CassandraProjection.createTablesIfNotExists(system).thenApply(done -> session))
        .thenCompose(
            session -> {
              ReadSideProjection.init(system, settings, clock);
              return connect(
                  session, settings.keyspace(), Clock.systemUTC(), settings.cursorSecret());
            });
  }

  /**
   * Queries over the tables in {@code keyspace}, which must exist; {@code clock} sets "now";
   * cursors are signed with the secret kept in the keyspace.
   */
  public static CompletionStage<ReadSide> connect(
      CqlSession session, String keyspace, Clock clock) {
    return connect(session, keyspace, clock, ReadSideSettings.DEFAULT_CURSOR_SECRET);
  }

  /**
   * As {@link #connect(CqlSession, String, Clock)}, with cursors signed by {@code cursorSecret},
   * or, when it is empty, by the secret kept in the keyspace (made by the first node to need it).
   */
  public static CompletionStage<ReadSide> connect(
      CqlSession session, String keyspace, Clock clock, String cursorSecret) {
    CompletionStage<byte[]> secret =
        cursorSecret.isEmpty()
            ? keptSecret(session, keyspace)
            : CompletableFuture.completedFuture(cursorSecret.getBytes(StandardCharsets.UTF_8));
    List<CompletableFuture<PreparedStatement>> prepared =
        List.of(
            prepare(
                session,
                "SELECT "
                    + LEASE_COLUMNS
                    + " FROM %s.leases_by_account WHERE account = ? AND month = ?",
                keyspace),
            prepare(
                session,
                "SELECT "
                    + LEASE_COLUMNS
                    + " FROM %s.lease_by_id WHERE market = ? AND lease_id = ?",
                keyspace),
            prepare(
                session,
                "SELECT cleared_at, lease_id, epoch, price_micros, nodes, gpus_per_node,"
                    + " gpu_seconds, starts_at, ends_at FROM %s.trades_by_market_day WHERE market"
                    + " = ? AND day = ?",
                keyspace),
            prepare(
                session,
                "SELECT bucket_start, open_micros, high_micros, low_micros, close_micros,"
                    + " volume_gpu_seconds, notional_micros, trades FROM %s.candles WHERE market"
                    + " = ? AND interval = ? AND day = ? AND bucket_start >= ? AND bucket_start"
                    + " < ?",
                keyspace),
            prepare(
                session,
                "SELECT cleared_at, clearing_price_micros, has_marginal, marginal_limit_micros,"
                    + " leases, filled_nodes, gpu_seconds, notional_micros, open_bids, unfilled,"
                    + " expired, unfilled_ioc FROM %s.epochs WHERE market = ? AND epoch_bucket = ?"
                    + " AND epoch = ?",
                keyspace));
    CompletableFuture<ProviderStatements> statements =
        ProviderStatements.prepare(session, keyspace, null).toCompletableFuture();
    return CompletableFuture.allOf(prepared.toArray(CompletableFuture<?>[]::new))
        .thenCombine(statements, (done, st) -> st)
        .thenCombine(
            secret,
            (st, key) ->
                new ReadSide(
                    session,
                    clock,
                    new PageCursor.Codec(key),
                    prepared.stream().map(CompletableFuture::join).toList(),
                    st));
  }

  /** Bytes of a secret the service makes itself. */
  private static final int SECRET_BYTES = 32;

  /**
   * The cursor secret kept in the keyspace: the first node to ask writes a random one (a
   * lightweight transaction, so two nodes starting at once agree), every later ask reads it.
   */
  private static CompletionStage<byte[]> keptSecret(CqlSession session, String keyspace) {
    byte[] fresh = new byte[SECRET_BYTES];
    new SecureRandom().nextBytes(fresh);
    return session
        .executeAsync(
            SimpleStatement.newInstance(
                String.format(
                    "INSERT INTO %s.cursor_secret (id, secret) VALUES (1, ?) IF NOT EXISTS",
                    keyspace),
                ByteBuffer.wrap(fresh)))
        .thenApply(
            rs -> {
              if (rs.wasApplied()) {
                return fresh;
              }
              ByteBuffer kept = rs.one().getByteBuffer("secret");
              byte[] bytes = new byte[kept.remaining()];
              kept.duplicate().get(bytes);
              return bytes;
            });
  }

  /**
   * A provider's statement over the UTC days {@code [from, to)} ({@link ProviderStatements}), of
   * one pool or (null) all.
   */
  public CompletionStage<Statement.Result> statement(
      long provider, java.time.LocalDate from, java.time.LocalDate to, String pool) {
    return providerStatements.statement(provider, from, to, pool);
  }

  /** The codec of this read side's cursors (tests make cursors with it). */
  PageCursor.Codec cursors() {
    return cursors;
  }

  /**
   * The account's leases, newest first, walking back month by month from the current month (UTC)
   * over at most {@value #LEASE_MONTHS} months: one page makes at most {@value #MAX_LEASE_QUERIES}
   * queries, whatever the cursor says. A cursor names a month it may walk from; one older than the
   * walk keeps gives an empty last page.
   *
   * @param cursor the {@code next} of the previous page of this account, or null for the first
   * @param limit rows wanted, at least 1; more than {@value #MAX_PAGE} is lowered to it
   * @throws IllegalArgumentException starting with "cursor" when the cursor is not a {@code next}
   *     of this account's leases or names a month after the current one
   */
  public CompletionStage<Page<LeaseRow>> leases(long account, String cursor, int limit) {
    int size = pageSize(limit);
    YearMonth current = YearMonth.now(clock.withZone(ZoneOffset.UTC));
    YearMonth oldest = current.minusMonths(LEASE_MONTHS - 1);
    YearMonth month = current;
    ByteBuffer state = null;
    String scope = leaseScope(account);
    if (cursor != null) {
      PageCursor c = cursors.decode(scope, cursor);
      month = parseMonth(c.partition(), cursor);
      if (month.isAfter(current)) {
        throw new IllegalArgumentException(
            "cursor names a month after the current one: month=" + month);
      }
      state = c.pagingState();
    }
    return leasesFrom(scope, account, month, state, size, oldest, new ArrayList<>(), 0);
  }

  private static String leaseScope(long account) {
    return "leases:" + account;
  }

  private CompletionStage<Page<LeaseRow>> leasesFrom(
      String scope,
      long account,
      YearMonth month,
      ByteBuffer state,
      int size,
      YearMonth oldest,
      List<LeaseRow> rows,
      int queries) {
    if (month.isBefore(oldest)) {
      return CompletableFuture.completedFuture(new Page<>(rows, null));
    }
    String partition = month.toString();
    if (queries >= MAX_LEASE_QUERIES) {
      return done(new Page<>(rows, cursors.encode(scope, partition, state)));
    }
    BoundStatement select =
        leasesOfMonth
            .bind(account, partition)
            .setPageSize(size - rows.size())
            .setPagingState(state);
    return session
        .executeAsync(select)
        .thenCompose(
            rs -> {
              for (Row row : rs.currentPage()) {
                rows.add(leaseRow(row));
              }
              ByteBuffer next = rs.hasMorePages() ? rs.getExecutionInfo().getPagingState() : null;
              if (rows.size() >= size) {
                if (next != null) {
                  return done(new Page<>(rows, cursors.encode(scope, partition, next)));
                }
                YearMonth before = month.minusMonths(1);
                return done(
                    new Page<>(
                        rows,
                        before.isBefore(oldest)
                            ? null
                            : cursors.encode(scope, before.toString(), null)));
              }
              return next != null
                  ? leasesFrom(scope, account, month, next, size, oldest, rows, queries + 1)
                  : leasesFrom(
                      scope, account, month.minusMonths(1), null, size, oldest, rows, queries + 1);
            });
  }

  /** One lease of a market by its id. */
  public CompletionStage<Optional<LeaseRow>> lease(String market, long leaseId) {
    return session
        .executeAsync(leaseById.bind(market, leaseId))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(ReadSide::leaseRow));
  }

  /**
   * The market's trades of one UTC day, newest first. With no day and no cursor, the latest day
   * with trades among the last {@value #LATEST_DAYS} (an empty page if none).
   *
   * @param day the day, or null for the latest; a cursor carries its own day
   * @throws IllegalArgumentException starting with "cursor" when the cursor is not a {@code next}
   *     of this market's trades, or belongs to another day than {@code day}
   */
  public CompletionStage<Page<Trade>> trades(
      String market, LocalDate day, String cursor, int limit) {
    int size = pageSize(limit);
    if (cursor != null) {
      PageCursor c = cursors.decode(tradeScope(market), cursor);
      LocalDate cursorDay = parseDay(c.partition(), cursor);
      if (day != null && !day.equals(cursorDay)) {
        throw new IllegalArgumentException(
            "cursor belongs to day " + cursorDay + ", not the day asked for: day=" + day);
      }
      return tradesOf(market, cursorDay, c.pagingState(), size);
    }
    if (day != null) {
      return tradesOf(market, day, null, size);
    }
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    return latestTrades(market, today, today.minusDays(LATEST_DAYS - 1), size);
  }

  private CompletionStage<Page<Trade>> latestTrades(
      String market, LocalDate day, LocalDate oldest, int size) {
    return tradesOf(market, day, null, size)
        .thenCompose(
            page ->
                page.items().isEmpty() && day.isAfter(oldest)
                    ? latestTrades(market, day.minusDays(1), oldest, size)
                    : done(page));
  }

  private CompletionStage<Page<Trade>> tradesOf(
      String market, LocalDate day, ByteBuffer state, int size) {
    String partition = day.toString();
    return session
        .executeAsync(tradesOfDay.bind(market, partition).setPageSize(size).setPagingState(state))
        .thenApply(
            rs -> {
              List<Trade> trades = new ArrayList<>();
              for (Row row : rs.currentPage()) {
                trades.add(
                    new Trade(
                        row.getInstant("cleared_at"),
                        row.getLong("lease_id"),
                        row.getLong("epoch"),
                        row.getLong("price_micros"),
                        row.getInt("nodes"),
                        row.getInt("gpus_per_node"),
                        row.getLong("gpu_seconds"),
                        row.getInstant("starts_at"),
                        row.getInstant("ends_at")));
              }
              ByteBuffer next = rs.hasMorePages() ? rs.getExecutionInfo().getPagingState() : null;
              return new Page<>(
                  trades,
                  next == null ? null : cursors.encode(tradeScope(market), partition, next));
            });
  }

  private static String tradeScope(String market) {
    return "trades:" + market;
  }

  /**
   * The candles whose buckets start in {@code [from, to)} ({@code from} rounded down to its
   * bucket), oldest first; buckets without a fill have no candle.
   *
   * @throws IllegalArgumentException naming the parameter when {@code to} is not after {@code
   *     from}, either lies outside [{@link #EARLIEST}, {@link #LATEST}], or the range spans more
   *     than {@value #MAX_CANDLES} buckets
   */
  public CompletionStage<List<Candle>> candles(
      String market, CandleInterval interval, Instant from, Instant to) {
    if (interval == null) {
      throw new IllegalArgumentException("interval must be one of 1m, 15m, 1h: interval=null");
    }
    if (from == null || to == null || !to.isAfter(from)) {
      throw new IllegalArgumentException("to must be after from: from=" + from + ", to=" + to);
    }
    checkRange("from", from);
    checkRange("to", to);
    Instant first = interval.bucketOf(from);
    long len = interval.seconds() * 1000L;
    long buckets = (to.toEpochMilli() - first.toEpochMilli() + len - 1) / len;
    if (buckets > MAX_CANDLES) {
      throw new IllegalArgumentException(
          "to is too far from from: at most "
              + MAX_CANDLES
              + " candles of "
              + interval.label()
              + " per call, asked for "
              + buckets
              + ": from="
              + from
              + ", to="
              + to);
    }
    LocalDate firstDay = LocalDate.ofInstant(first, ZoneOffset.UTC);
    LocalDate lastDay = LocalDate.ofInstant(to.minusMillis(1), ZoneOffset.UTC);
    List<CompletableFuture<List<Candle>>> days = new ArrayList<>();
    for (LocalDate d = firstDay; !d.isAfter(lastDay); d = d.plusDays(1)) {
      days.add(
          session
              .executeAsync(
                  candlesOfDay
                      .bind(market, interval.label(), d.toString(), first, to)
                      .setPageSize(MAX_CANDLES + 1))
              .thenApply(rs -> candles(interval, rs))
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(days.toArray(CompletableFuture<?>[]::new))
        .thenApply(
            done -> {
              List<Candle> out = new ArrayList<>();
              days.forEach(d -> out.addAll(d.join()));
              return out;
            });
  }

  /**
   * @throws IllegalArgumentException starting with {@code name} when {@code instant} lies outside
   *     [{@link #EARLIEST}, {@link #LATEST}]
   */
  public static void checkRange(String name, Instant instant) {
    if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
      throw new IllegalArgumentException(
          name + " must lie in [" + EARLIEST + ", " + LATEST + "]: " + name + "=" + instant);
    }
  }

  private static List<Candle> candles(CandleInterval interval, AsyncResultSet rs) {
    List<Candle> out = new ArrayList<>();
    for (Row row : rs.currentPage()) {
      out.add(
          new Candle(
              interval,
              row.getInstant("bucket_start"),
              row.getLong("open_micros"),
              row.getLong("high_micros"),
              row.getLong("low_micros"),
              row.getLong("close_micros"),
              row.getLong("volume_gpu_seconds"),
              row.getLong("notional_micros"),
              row.getInt("trades")));
    }
    return out;
  }

  /** The public record of epoch {@code n} of the market. */
  public CompletionStage<Optional<EpochRecord>> epoch(String market, long n) {
    if (n <= 0) {
      throw new IllegalArgumentException("epoch must be > 0: epoch=" + n);
    }
    return session
        .executeAsync(epochByNumber.bind(market, n / ReadSideHandler.EPOCHS_PER_BUCKET, n))
        .thenApply(
            rs ->
                Optional.ofNullable(rs.one())
                    .map(
                        row ->
                            new EpochRecord(
                                market,
                                n,
                                row.getInstant("cleared_at"),
                                row.getLong("clearing_price_micros"),
                                row.getBoolean("has_marginal"),
                                row.getLong("marginal_limit_micros"),
                                row.getInt("leases"),
                                row.getInt("filled_nodes"),
                                row.getLong("gpu_seconds"),
                                row.getLong("notional_micros"),
                                row.getInt("open_bids"),
                                row.getMap("unfilled", String.class, Integer.class),
                                row.getInt("expired"),
                                row.getInt("unfilled_ioc"))));
  }

  private static LeaseRow leaseRow(Row row) {
    return new LeaseRow(
        row.getString("market"),
        row.getLong("lease_id"),
        row.getLong("bid_id"),
        row.getLong("account"),
        row.getLong("window_id"),
        row.getInt("nodes"),
        row.getInt("gpus_per_node"),
        row.getInstant("starts_at"),
        row.getInstant("ends_at"),
        row.getLong("price_micros"),
        row.getLong("limit_micros"),
        row.getLong("epoch"),
        row.getInstant("cleared_at"),
        row.getInstant("preempt_at"),
        row.getString("preempt_kind"),
        row.isNull("notice_shortfall_seconds") ? 0 : row.getLong("notice_shortfall_seconds"));
  }

  private static int pageSize(int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be > 0: limit=" + limit);
    }
    return Math.min(limit, MAX_PAGE);
  }

  private static YearMonth parseMonth(String partition, String cursor) {
    try {
      return YearMonth.parse(partition);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("cursor is not a cursor of leases: cursor=" + cursor);
    }
  }

  private static LocalDate parseDay(String partition, String cursor) {
    try {
      return LocalDate.parse(partition);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("cursor is not a cursor of trades: cursor=" + cursor);
    }
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  private static CompletableFuture<PreparedStatement> prepare(
      CqlSession session, String cql, String keyspace) {
    return session.prepareAsync(String.format(cql, keyspace)).toCompletableFuture();
  }
}
