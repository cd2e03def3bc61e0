package io.surplus.market.readside;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.surplus.engine.Lease;
import io.surplus.engine.Price;
import io.surplus.engine.Reason;
import io.surplus.engine.SlotClock;
import io.surplus.market.markets.Market;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * Projects one {@link Market.EpochCleared} into the read-side tables: each lease into the account's
 * month, the lease-by-id table and the market's anonymous tape; the epoch's public record; and the
 * 1m, 15m and 1h candles of the epoch's instant. Every tagged event (window offers, extensions and
 * revocations too) then goes to the providers' statements ({@link ProviderStatements}).
 *
 * <p>Idempotent under at-least-once redelivery: every row but the candles is keyed by what it
 * describes and rewritten with the same values; a candle folds an epoch in only when the epoch is
 * newer than its {@code last_epoch}. That read-modify-write is safe because one projection instance
 * handles the events, and the events of one market arrive in order.
 */
public final class ReadSideHandler extends Handler<EventEnvelope<Market.Event>> {

  /** The prefix of a market's persistence id, {@code Market|<gpuModel>}. */
  public static final String MARKET_PREFIX = "Market|";

  /** Epochs per partition of the epochs table. */
  public static final long EPOCHS_PER_BUCKET = 10_000;

  /**
   * Quorum, so that a candle's read sees its last write whichever replica answers (on one node, one
   * replica).
   */
  static final ConsistencyLevel CONSISTENCY = ConsistencyLevel.LOCAL_QUORUM;

  /** Writes in flight at once for one epoch; the rest wait their turn. */
  static final int MAX_IN_FLIGHT = 32;

  static final DateTimeFormatter MONTH =
      DateTimeFormatter.ofPattern("yyyy-MM").withZone(ZoneOffset.UTC);
  static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

  private final CompletionStage<CqlSession> sessionStage;
  private final String keyspace;
  private final SlotClock clock;

  private CqlSession session;
  private PreparedStatement insertLeaseByAccount;
  private PreparedStatement insertLeaseById;
  private PreparedStatement insertTrade;
  private PreparedStatement insertEpoch;
  private PreparedStatement selectCandle;
  private PreparedStatement insertCandle;
  private PreparedStatement selectLeaseHome;
  private PreparedStatement preemptLeaseByAccount;
  private PreparedStatement preemptLeaseById;
  private ProviderStatements statements;

  public ReadSideHandler(CompletionStage<CqlSession> session, String keyspace, SlotClock clock) {
    this.sessionStage = session;
    this.keyspace = keyspace;
    this.clock = clock;
  }

  @Override
  public CompletionStage<Done> start() {
    return sessionStage.thenCompose(
        s -> {
          session = s;
          CompletableFuture<PreparedStatement> a =
              prepare(
                  "INSERT INTO %s.leases_by_account (account, month, cleared_at, market, lease_id,"
                      + " bid_id, window_id, nodes, gpus_per_node, starts_at, ends_at, price_micros,"
                      + " limit_micros, epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          CompletableFuture<PreparedStatement> b =
              prepare(
                  "INSERT INTO %s.lease_by_id (market, lease_id, bid_id, account, window_id, nodes,"
                      + " gpus_per_node, starts_at, ends_at, price_micros, limit_micros, epoch,"
                      + " cleared_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          CompletableFuture<PreparedStatement> c =
              prepare(
                  "INSERT INTO %s.trades_by_market_day (market, day, cleared_at, lease_id, epoch,"
                      + " price_micros, nodes, gpus_per_node, gpu_seconds, starts_at, ends_at)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          CompletableFuture<PreparedStatement> d =
              prepare(
                  "INSERT INTO %s.epochs (market, epoch_bucket, epoch, cleared_at,"
                      + " clearing_price_micros, has_marginal, marginal_limit_micros, leases,"
                      + " filled_nodes, gpu_seconds, notional_micros, open_bids, unfilled, expired,"
                      + " unfilled_ioc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          CompletableFuture<PreparedStatement> e =
              prepare(
                  "SELECT open_micros, high_micros, low_micros, volume_gpu_seconds,"
                      + " notional_micros, trades, last_epoch FROM %s.candles WHERE market = ? AND"
                      + " interval = ? AND day = ? AND bucket_start = ?");
          CompletableFuture<PreparedStatement> f =
              prepare(
                  "INSERT INTO %s.candles (market, interval, day, bucket_start, open_micros,"
                      + " high_micros, low_micros, close_micros, volume_gpu_seconds,"
                      + " notional_micros, trades, last_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                      + " ?, ?, ?)");
          CompletableFuture<PreparedStatement> g =
              prepare(
                  "SELECT account, cleared_at FROM %s.lease_by_id WHERE market = ? AND lease_id = ?");
          CompletableFuture<PreparedStatement> h =
              prepare(
                  "UPDATE %s.leases_by_account SET preempt_at = ?, preempt_kind = ?,"
                      + " notice_shortfall_seconds = ? WHERE account = ? AND month = ? AND"
                      + " cleared_at = ? AND market = ? AND lease_id = ?");
          CompletableFuture<PreparedStatement> i =
              prepare(
                  "UPDATE %s.lease_by_id SET preempt_at = ?, preempt_kind = ?,"
                      + " notice_shortfall_seconds = ? WHERE market = ? AND lease_id = ?");
          CompletableFuture<ProviderStatements> j =
              ProviderStatements.prepare(s, keyspace, clock).toCompletableFuture();
          return CompletableFuture.allOf(a, b, c, d, e, f, g, h, i, j)
              .thenApply(
                  done -> {
                    statements = j.join();
                    selectLeaseHome = g.join();
                    preemptLeaseByAccount = h.join();
                    preemptLeaseById = i.join();
                    insertLeaseByAccount = a.join();
                    insertLeaseById = b.join();
                    insertTrade = c.join();
                    insertEpoch = d.join();
                    selectCandle = e.join();
                    insertCandle = f.join();
                    return Done.getInstance();
                  });
        });
  }

  @Override
  public CompletionStage<Done> process(EventEnvelope<Market.Event> envelope) {
    String market = marketOf(envelope.persistenceId());
    Market.Event event = envelope.event();
    CompletionStage<Done> lease;
    if (event instanceof Market.WindowRevoked revoked) {
      lease = preempt(market, revoked);
    } else if (event instanceof Market.EpochCleared epoch) {
      lease = project(market, epoch);
    } else {
      lease = CompletableFuture.completedFuture(Done.getInstance());
    }
    // then the provider's statement (window offers and extensions go only there)
    return lease.thenCompose(d -> statements.project(market, event));
  }

  /**
   * Marks each lease a revocation cut: notified now, preempted at its preemptAt. Rewriting the same
   * values on redelivery changes nothing.
   */
  private CompletionStage<Done> preempt(String market, Market.WindowRevoked r) {
    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (io.surplus.engine.book.Cut c : r.cuts()) {
      Instant at = Instant.ofEpochMilli(c.preemptAtMillis());
      String kind = c.kind().name().toLowerCase(java.util.Locale.ROOT);
      long shortfall = c.noticeShortfallSeconds();
      long leaseId = c.lease().id();
      writes.add(
          session
              .executeAsync(selectLeaseHome.bind(market, leaseId))
              .thenCompose(
                  rs -> {
                    com.datastax.oss.driver.api.core.cql.Row home = rs.one();
                    if (home == null) {
                      // the epoch that made it is not projected yet: it comes first in the tag's
                      // order, so this does not happen; fail to retry rather than lose the mark
                      throw new IllegalStateException(
                          "lease " + market + "." + leaseId + " not projected yet");
                    }
                    Instant clearedAt = home.getInstant("cleared_at");
                    return session
                        .executeAsync(
                            preemptLeaseByAccount.bind(
                                at,
                                kind,
                                shortfall,
                                home.getLong("account"),
                                MONTH.format(clearedAt),
                                clearedAt,
                                market,
                                leaseId))
                        .thenCompose(
                            x ->
                                session.executeAsync(
                                    preemptLeaseById.bind(at, kind, shortfall, market, leaseId)));
                  })
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
        .thenApply(v -> Done.getInstance());
  }

  /** The GPU model of a market's persistence id. */
  static String marketOf(String persistenceId) {
    if (persistenceId == null || !persistenceId.startsWith(MARKET_PREFIX)) {
      throw new IllegalArgumentException(
          "not a market's persistence id, expected "
              + MARKET_PREFIX
              + "<gpuModel>: persistenceId="
              + persistenceId);
    }
    return persistenceId.substring(MARKET_PREFIX.length());
  }

  private CompletionStage<Done> project(String market, Market.EpochCleared e) {
    Instant clearedAt = Instant.ofEpochMilli(e.atMillis());
    String month = MONTH.format(clearedAt);
    String day = DAY.format(clearedAt);
    List<Lease> leases = e.leases() == null ? List.of() : e.leases();
    List<BoundStatement> writes = new ArrayList<>(leases.size() * 3 + 1);
    long gpuSeconds = 0;
    long notional = 0;
    int filledNodes = 0;
    for (Lease l : leases) {
      long seconds = clock.seconds(l.endSlot() - l.startSlot());
      long leaseGpuSeconds = (long) l.nodes() * l.gpusPerNode() * seconds;
      gpuSeconds += leaseGpuSeconds;
      notional += Price.cost(l.price(), l.nodes(), l.gpusPerNode(), seconds);
      filledNodes += l.nodes();
      Instant start = clock.start(l.startSlot());
      Instant end = clock.start(l.endSlot());
      writes.add(
          insertLeaseByAccount.bind(
              l.account(),
              month,
              clearedAt,
              market,
              l.id(),
              l.bidId(),
              l.windowId(),
              l.nodes(),
              l.gpusPerNode(),
              start,
              end,
              l.price(),
              l.limitPrice(),
              l.epoch()));
      writes.add(
          insertLeaseById.bind(
              market,
              l.id(),
              l.bidId(),
              l.account(),
              l.windowId(),
              l.nodes(),
              l.gpusPerNode(),
              start,
              end,
              l.price(),
              l.limitPrice(),
              l.epoch(),
              clearedAt));
      writes.add(
          insertTrade.bind(
              market,
              day,
              clearedAt,
              l.id(),
              l.epoch(),
              l.price(),
              l.nodes(),
              l.gpusPerNode(),
              leaseGpuSeconds,
              start,
              end));
    }
    boolean hasMarginal = e.marginalBidId() >= 0 && !leases.isEmpty();
    BoundStatement epochRow =
        insertEpoch.bind(
            market,
            e.epoch() / EPOCHS_PER_BUCKET,
            e.epoch(),
            clearedAt,
            e.clearingPrice(),
            hasMarginal,
            e.clearingPrice(),
            leases.size(),
            filledNodes,
            gpuSeconds,
            notional,
            e.openBids(),
            unfilled(e.reasonCounts()),
            length(e.expiredBidIds()),
            length(e.unfilledIocBidIds()));
    // left unset, not null: a null would write a tombstone on every rewrite
    writes.add(hasMarginal ? epochRow : epochRow.unset("marginal_limit_micros"));
    CompletionStage<Done> rows = executeAll(writes, 0);
    if (leases.isEmpty()) {
      return rows;
    }
    Fold fold = new Fold(e.epoch(), e.clearingPrice(), gpuSeconds, notional, leases.size());
    return rows.thenCompose(done -> candles(market, clearedAt, fold, 0));
  }

  /** What one epoch adds to a candle. */
  private record Fold(long epoch, long price, long gpuSeconds, long notional, int trades) {}

  private CompletionStage<Done> candles(String market, Instant clearedAt, Fold fold, int index) {
    CandleInterval[] intervals = CandleInterval.values();
    if (index == intervals.length) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    CandleInterval interval = intervals[index];
    Instant bucket = interval.bucketOf(clearedAt);
    String day = DAY.format(bucket);
    return session
        .executeAsync(
            selectCandle
                .bind(market, interval.label(), day, bucket)
                .setConsistencyLevel(CONSISTENCY))
        .thenCompose(
            rs -> {
              Row row = rs.one();
              BoundStatement write;
              if (row == null) {
                write =
                    insertCandle.bind(
                        market,
                        interval.label(),
                        day,
                        bucket,
                        fold.price(),
                        fold.price(),
                        fold.price(),
                        fold.price(),
                        fold.gpuSeconds(),
                        fold.notional(),
                        fold.trades(),
                        fold.epoch());
              } else if (row.getLong("last_epoch") >= fold.epoch()) {
                return CompletableFuture.completedFuture(Done.getInstance()); // redelivered
              } else {
                write =
                    insertCandle.bind(
                        market,
                        interval.label(),
                        day,
                        bucket,
                        row.getLong("open_micros"),
                        Math.max(row.getLong("high_micros"), fold.price()),
                        Math.min(row.getLong("low_micros"), fold.price()),
                        fold.price(),
                        row.getLong("volume_gpu_seconds") + fold.gpuSeconds(),
                        row.getLong("notional_micros") + fold.notional(),
                        row.getInt("trades") + fold.trades(),
                        fold.epoch());
              }
              return execute(write);
            })
        .thenCompose(done -> candles(market, clearedAt, fold, index + 1));
  }

  /** Open bids per reason name after the epoch; reasons with none are left out. */
  static Map<String, Integer> unfilled(int[] reasonCounts) {
    Map<String, Integer> out = new HashMap<>();
    if (reasonCounts != null) {
      for (int i = 0; i < reasonCounts.length; i++) {
        if (reasonCounts[i] != 0) {
          out.put(Reason.of(i).name(), reasonCounts[i]);
        }
      }
    }
    return out;
  }

  private static int length(long[] ids) {
    return ids == null ? 0 : ids.length;
  }

  /** Runs the writes {@link #MAX_IN_FLIGHT} at a time. */
  private CompletionStage<Done> executeAll(List<BoundStatement> writes, int from) {
    return inTurns(writes.subList(from, writes.size()), this::execute);
  }

  /**
   * Runs {@code each} over {@code items}, {@link #MAX_IN_FLIGHT} at a time, so that an epoch of
   * thousands of leases never asks more of the driver's connection than it can hold in flight.
   */
  static <T> CompletionStage<Done> inTurns(
      List<T> items, java.util.function.Function<T, CompletionStage<Done>> each) {
    return inTurns(items, each, 0);
  }

  private static <T> CompletionStage<Done> inTurns(
      List<T> items, java.util.function.Function<T, CompletionStage<Done>> each, int from) {
    if (from >= items.size()) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    int to = Math.min(items.size(), from + MAX_IN_FLIGHT);
    CompletableFuture<?>[] turn = new CompletableFuture<?>[to - from];
    for (int i = from; i < to; i++) {
      turn[i - from] = each.apply(items.get(i)).toCompletableFuture();
    }
    return CompletableFuture.allOf(turn).thenCompose(done -> inTurns(items, each, to));
  }

  private CompletionStage<Done> execute(BoundStatement write) {
    return session
        .executeAsync(write.setConsistencyLevel(CONSISTENCY).setIdempotent(true))
        .thenApply(ReadSideHandler::done);
  }

  private static Done done(AsyncResultSet ignored) {
    return Done.getInstance();
  }

  private CompletableFuture<PreparedStatement> prepare(String cql) {
    return session.prepareAsync(String.format(cql, keyspace)).toCompletableFuture();
  }
}
