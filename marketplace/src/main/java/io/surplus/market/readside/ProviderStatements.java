package io.surplus.market.readside;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.surplus.engine.Lease;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.Cut;
import io.surplus.market.markets.Market;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.Done;

/**
 * The providers' statements on the read side (schema {@code V6__provider_statement.cql}): the
 * projection writes each window offered, extended or revoked and each lease sold on it into its
 * provider's partition of the month the window starts in; {@link #statement} reads the months a
 * span needs and computes the {@link Statement}.
 *
 * <p>Idempotent under redelivery: every row is keyed by what it describes and rewritten with the
 * same values. A lease or a change finds its window's provider and month in {@code window_owner},
 * written with the window's offer, which comes first in the tag's order of its market.
 */
public final class ProviderStatements {

  /** The longest span one statement covers, in days. */
  public static final int MAX_DAYS = 92;

  private final CqlSession session;
  private final SlotClock clock;
  private final PreparedStatement insertOwner;
  private final PreparedStatement selectOwner;
  private final PreparedStatement insertWindow;
  private final PreparedStatement extendWindow;
  private final PreparedStatement insertRevocation;
  private final PreparedStatement insertLease;
  private final PreparedStatement preemptLease;
  private final PreparedStatement windowsOfMonth;
  private final PreparedStatement revocationsOfMonth;
  private final PreparedStatement leasesOfMonth;

  /** Window owners seen by this projection instance: (market, window id) to provider and month. */
  private final Map<String, Owner> owners = new ConcurrentHashMap<>();

  private static final int MAX_OWNERS_KEPT = 100_000;

  record Owner(long provider, String month) {}

  private ProviderStatements(CqlSession session, SlotClock clock, List<PreparedStatement> p) {
    this.session = session;
    this.clock = clock;
    insertOwner = p.get(0);
    selectOwner = p.get(1);
    insertWindow = p.get(2);
    extendWindow = p.get(3);
    insertRevocation = p.get(4);
    insertLease = p.get(5);
    preemptLease = p.get(6);
    windowsOfMonth = p.get(7);
    revocationsOfMonth = p.get(8);
    leasesOfMonth = p.get(9);
  }

  /**
   * Prepares the statements of {@code keyspace}'s tables; {@code clock} turns slots into instants
   * for the projection's writes (null where only statements are read).
   */
  public static CompletionStage<ProviderStatements> prepare(
      CqlSession session, String keyspace, SlotClock clock) {
    List<String> cql =
        List.of(
            "INSERT INTO %s.window_owner (market, window_id, provider, month) VALUES (?, ?, ?, ?)",
            "SELECT provider, month FROM %s.window_owner WHERE market = ? AND window_id = ?",
            "INSERT INTO %s.provider_windows (provider, month, market, window_id, pool, nodes,"
                + " gpus_per_node, starts_at, ends_at, reserve_micros, notice_seconds, offered_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "UPDATE %s.provider_windows SET ends_at = ? WHERE provider = ? AND month = ? AND"
                + " market = ? AND window_id = ?",
            "INSERT INTO %s.provider_revocations (provider, month, market, window_id, revocation,"
                + " from_at, keep_nodes, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            "INSERT INTO %s.provider_leases (provider, month, market, window_id, lease_id, nodes,"
                + " gpus_per_node, starts_at, ends_at, price_micros) VALUES (?, ?, ?, ?, ?, ?, ?,"
                + " ?, ?, ?)",
            "UPDATE %s.provider_leases SET preempt_at = ?, notice_shortfall_seconds = ? WHERE"
                + " provider = ? AND month = ? AND market = ? AND window_id = ? AND lease_id = ?",
            "SELECT market, window_id, pool, nodes, gpus_per_node, starts_at, ends_at,"
                + " reserve_micros FROM %s.provider_windows WHERE provider = ? AND month = ?",
            "SELECT market, window_id, from_at, keep_nodes FROM %s.provider_revocations WHERE"
                + " provider = ? AND month = ?",
            "SELECT market, window_id, lease_id, nodes, gpus_per_node, starts_at, ends_at,"
                + " price_micros, preempt_at, notice_shortfall_seconds FROM %s.provider_leases"
                + " WHERE provider = ? AND month = ?");
    List<CompletableFuture<PreparedStatement>> prepared =
        cql.stream()
            .map(q -> session.prepareAsync(String.format(q, keyspace)).toCompletableFuture())
            .toList();
    return CompletableFuture.allOf(prepared.toArray(CompletableFuture<?>[]::new))
        .thenApply(
            done ->
                new ProviderStatements(
                    session, clock, prepared.stream().map(CompletableFuture::join).toList()));
  }

  // ------------------------------------------------------------------ the projection's side

  /** Writes what {@code event} changes of its provider's statement; other events change nothing. */
  CompletionStage<Done> project(String market, Market.Event event) {
    if (event instanceof Market.WindowOffered o) {
      return offered(market, o.window(), o.pool(), o.atMillis());
    }
    if (event instanceof Market.FeedWindowOffered f) {
      return offered(market, f.window(), f.pool(), f.atMillis());
    }
    if (event instanceof Market.WindowExtended x) {
      return withOwner(
          market,
          x.windowId(),
          o ->
              run(
                  extendWindow.bind(
                      clock.start(x.newEndSlot()), o.provider(), o.month(), market, x.windowId())));
    }
    if (event instanceof Market.WindowRevoked r) {
      return withOwner(market, r.windowId(), o -> revoked(market, o, r));
    }
    if (event instanceof Market.EpochCleared e) {
      return sold(market, e.leases() == null ? List.of() : e.leases());
    }
    return done();
  }

  private CompletionStage<Done> offered(String market, WindowSpec w, String pool, long atMillis) {
    Instant start = clock.start(w.startSlot());
    String month = ReadSideHandler.MONTH.format(start);
    remember(market, w.id(), new Owner(w.provider(), month));
    return run(insertOwner.bind(market, w.id(), w.provider(), month))
        .thenCompose(
            d ->
                run(
                    insertWindow.bind(
                        w.provider(),
                        month,
                        market,
                        w.id(),
                        pool != null ? pool : "pool-" + w.pool(),
                        w.nodes(),
                        w.gpusPerNode(),
                        start,
                        clock.start(w.endSlot()),
                        w.reservePrice(),
                        w.noticeSeconds(),
                        Instant.ofEpochMilli(atMillis))));
  }

  /**
   * A revocation's first slot, as the engine takes it ({@code OrderBook.revoke}): the slot of the
   * later of its from and its instant, rounded down; then each lease it cut.
   */
  private CompletionStage<Done> revoked(String market, Owner o, Market.WindowRevoked r) {
    long from = Math.max(r.fromMillis(), r.atMillis());
    Instant fromSlot = clock.start(clock.slotAtOrBefore(from));
    return run(insertRevocation.bind(
            o.provider(),
            o.month(),
            market,
            r.windowId(),
            r.number(),
            fromSlot,
            r.keepNodes(),
            r.kind().name().toLowerCase(Locale.ROOT)))
        .thenCompose(
            d ->
                ReadSideHandler.inTurns(
                    r.cuts() == null ? List.<Cut>of() : r.cuts(),
                    c ->
                        run(
                            preemptLease.bind(
                                Instant.ofEpochMilli(c.preemptAtMillis()),
                                c.noticeShortfallSeconds(),
                                o.provider(),
                                o.month(),
                                market,
                                r.windowId(),
                                c.lease().id()))));
  }

  /**
   * An epoch's leases, {@link ReadSideHandler#MAX_IN_FLIGHT} at a time (an epoch may make
   * thousands).
   */
  private CompletionStage<Done> sold(String market, List<Lease> leases) {
    // each window's owner found once (at most one read), then the leases of the owned windows
    // written; both steps MAX_IN_FLIGHT at a time
    List<Long> windows = leases.stream().map(Lease::windowId).distinct().toList();
    Map<Long, Owner> owned = new ConcurrentHashMap<>();
    return ReadSideHandler.inTurns(
            windows,
            w ->
                withOwner(
                    market,
                    w,
                    o -> {
                      owned.put(w, o);
                      return done();
                    }))
        .thenCompose(
            d ->
                ReadSideHandler.inTurns(
                    leases.stream().filter(l -> owned.containsKey(l.windowId())).toList(),
                    l -> {
                      Owner o = owned.get(l.windowId());
                      return run(
                          insertLease.bind(
                              o.provider(),
                              o.month(),
                              market,
                              l.windowId(),
                              l.id(),
                              l.nodes(),
                              l.gpusPerNode(),
                              clock.start(l.startSlot()),
                              clock.start(l.endSlot()),
                              l.price()));
                    }));
  }

  /**
   * Runs {@code then} with the window's owner; a window with no owner row was offered before the
   * statements existed (its provider's statement leaves it out), so nothing is written.
   */
  private CompletionStage<Done> withOwner(
      String market, long windowId, Function<Owner, CompletionStage<Done>> then) {
    Owner known = owners.get(key(market, windowId));
    if (known != null) {
      return then.apply(known);
    }
    return session
        .executeAsync(selectOwner.bind(market, windowId))
        .thenCompose(
            rs -> {
              Row row = rs.one();
              if (row == null) {
                return done();
              }
              Owner o = new Owner(row.getLong("provider"), row.getString("month"));
              remember(market, windowId, o);
              return then.apply(o);
            });
  }

  private void remember(String market, long windowId, Owner o) {
    if (owners.size() >= MAX_OWNERS_KEPT) {
      owners.clear(); // the table has them all; this only saves reads
    }
    owners.put(key(market, windowId), o);
  }

  private static String key(String market, long windowId) {
    return market + "|" + windowId;
  }

  private CompletionStage<Done> run(BoundStatement s) {
    return session
        .executeAsync(s.setConsistencyLevel(ReadSideHandler.CONSISTENCY).setIdempotent(true))
        .thenApply(rs -> Done.getInstance());
  }

  private static CompletionStage<Done> done() {
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  // ------------------------------------------------------------------ the statement

  /**
   * The provider's statement over the UTC days {@code [from, to)}, of {@code pool} or (null) all of
   * its pools. Reads the months from the one before {@code from} (a window that started then may
   * reach into the span) to that of the last day: at most four months, three partitions each.
   */
  public CompletionStage<Statement.Result> statement(
      long provider, LocalDate from, LocalDate to, String pool) {
    // filled from the driver's threads, one page at a time; read once every read is done
    List<Statement.Window> windows = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Statement.Revocation> revocations =
        java.util.Collections.synchronizedList(new ArrayList<>());
    List<Statement.Lease> leases = java.util.Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> reads = new ArrayList<>();
    YearMonth last = YearMonth.from(to.minusDays(1));
    for (YearMonth m = YearMonth.from(from).minusMonths(1); !m.isAfter(last); m = m.plusMonths(1)) {
      String month = m.toString();
      reads.add(
          rows(
              windowsOfMonth.bind(provider, month),
              r ->
                  windows.add(
                      new Statement.Window(
                          r.getString("market"),
                          r.getLong("window_id"),
                          r.getString("pool"),
                          r.getInt("nodes"),
                          r.getInt("gpus_per_node"),
                          r.getInstant("starts_at"),
                          r.getInstant("ends_at"),
                          r.getLong("reserve_micros")))));
      reads.add(
          rows(
              revocationsOfMonth.bind(provider, month),
              r ->
                  revocations.add(
                      new Statement.Revocation(
                          r.getString("market"),
                          r.getLong("window_id"),
                          r.getInstant("from_at"),
                          r.getInt("keep_nodes")))));
      reads.add(
          rows(
              leasesOfMonth.bind(provider, month),
              r ->
                  leases.add(
                      new Statement.Lease(
                          r.getString("market"),
                          r.getLong("window_id"),
                          r.getLong("lease_id"),
                          r.getInt("nodes"),
                          r.getInt("gpus_per_node"),
                          r.getInstant("starts_at"),
                          r.getInstant("ends_at"),
                          r.getLong("price_micros"),
                          r.getInstant("preempt_at"),
                          r.isNull("notice_shortfall_seconds")
                              ? 0
                              : r.getLong("notice_shortfall_seconds")))));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(v -> Statement.compute(windows, revocations, leases, from, to, pool));
  }

  /** Reads every row of a query, page by page, handing each to {@code each} (one at a time). */
  private CompletableFuture<Void> rows(BoundStatement s, java.util.function.Consumer<Row> each) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    session
        .executeAsync(s.setConsistencyLevel(ReadSideHandler.CONSISTENCY))
        .whenComplete((rs, failure) -> page(rs, failure, each, done));
    return done;
  }

  private static void page(
      AsyncResultSet rs,
      Throwable failure,
      java.util.function.Consumer<Row> each,
      CompletableFuture<Void> done) {
    if (failure != null) {
      done.completeExceptionally(failure);
      return;
    }
    for (Row r : rs.currentPage()) {
      each.accept(r);
    }
    if (rs.hasMorePages()) {
      rs.fetchNextPage().whenComplete((next, f) -> page(next, f, each, done));
    } else {
      done.complete(null);
    }
  }
}
