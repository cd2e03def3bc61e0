package io.surplus.market.readside;

import io.surplus.engine.Price;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A capacity owner's statement, computed from its windows, their revocations and the leases sold on
 * them: per market, pool and UTC day, node-seconds offered, revoked, sold and idle, revenue,
 * refunds for lost notice and preemptions. Pure: the rows in, the lines out.
 *
 * <ul>
 *   <li><b>offered</b>: a window's nodes over its span (its end as extended);
 *   <li><b>revoked</b>: what revocations took back of that, from each one's first slot (a window
 *       offers {@code min(nodes, keepNodes of every revocation begun)} nodes at a time);
 *   <li><b>sold</b>: leases' nodes over their span, up to their preemption if cut;
 *   <li><b>idle</b>: offered less revoked less sold;
 *   <li><b>revenue</b>: what the bidders were billed, as accounts bill it: a cut lease up to its
 *       preemption less the notice it was owed and not given, rounded down per lease and day;
 *   <li><b>refunds</b>: the price of that lost notice, on the days it covered;
 *   <li><b>preemptions</b>: leases cut, on the day of their preemption.
 * </ul>
 */
public final class Statement {

  private Statement() {}

  /** A window as offered: its span is [start, end), end as extended. */
  public record Window(
      String market,
      long windowId,
      String pool,
      int nodes,
      int gpusPerNode,
      Instant start,
      Instant end,
      long reserveMicros) {}

  /** From {@code from} on, the window offers at most {@code keepNodes}. */
  public record Revocation(String market, long windowId, Instant from, int keepNodes) {}

  /** A lease sold on a window; {@code preemptAt} null unless cut. */
  public record Lease(
      String market,
      long windowId,
      long leaseId,
      int nodes,
      int gpusPerNode,
      Instant start,
      Instant end,
      long priceMicros,
      Instant preemptAt,
      long noticeShortfallSeconds) {}

  /** One market's pool on one day (or, with {@code day} null, over the whole statement). */
  public record Line(
      String market,
      String pool,
      LocalDate day,
      long offeredNodeSeconds,
      long revokedNodeSeconds,
      long soldNodeSeconds,
      long soldGpuSeconds,
      long revenueMicros,
      long refundMicros,
      int preemptions,
      long priceGpuSecondMicros,
      long offeredGpuSeconds,
      long reserveGpuSecondMicros) {

    Line plus(Line o) {
      return new Line(
          market,
          pool,
          day != null && day.equals(o.day) ? day : null,
          offeredNodeSeconds + o.offeredNodeSeconds,
          revokedNodeSeconds + o.revokedNodeSeconds,
          soldNodeSeconds + o.soldNodeSeconds,
          soldGpuSeconds + o.soldGpuSeconds,
          revenueMicros + o.revenueMicros,
          refundMicros + o.refundMicros,
          preemptions + o.preemptions,
          priceGpuSecondMicros + o.priceGpuSecondMicros,
          offeredGpuSeconds + o.offeredGpuSeconds,
          reserveGpuSecondMicros + o.reserveGpuSecondMicros);
    }

    /** Offered less revoked less sold (never below 0). */
    public long idleNodeSeconds() {
      return Math.max(0, offeredNodeSeconds - revokedNodeSeconds - soldNodeSeconds);
    }

    /** Sold over what stayed on offer (offered less revoked); 0 with nothing on offer. */
    public double sellThrough() {
      long onOffer = offeredNodeSeconds - revokedNodeSeconds;
      return onOffer <= 0 ? 0 : (double) soldNodeSeconds / onOffer;
    }

    /** The sold GPU-seconds' average lease price, micro-dollars per GPU-hour (rounded down). */
    public long averagePriceMicros() {
      return soldGpuSeconds == 0 ? 0 : priceGpuSecondMicros / soldGpuSeconds;
    }

    /** The offered GPU-seconds' average reserve, micro-dollars per GPU-hour (rounded down). */
    public long averageReserveMicros() {
      return offeredGpuSeconds == 0 ? 0 : reserveGpuSecondMicros / offeredGpuSeconds;
    }
  }

  /** Per day and totals, each sorted by market, pool (and day). */
  public record Result(List<Line> days, List<Line> totals) {}

  /**
   * The statement over the UTC days {@code [from, to)}, of one pool or (null) every pool.
   *
   * @param windows every window that may overlap the days (others add nothing)
   */
  public static Result compute(
      List<Window> windows,
      List<Revocation> revocations,
      List<Lease> leases,
      LocalDate from,
      LocalDate to,
      String pool) {
    Map<String, Window> byId = new TreeMap<>();
    for (Window w : windows) {
      if (pool == null || pool.equals(w.pool())) {
        byId.put(key(w.market(), w.windowId()), w);
      }
    }
    Map<String, List<Revocation>> cuts = new TreeMap<>();
    for (Revocation r : revocations) {
      cuts.computeIfAbsent(key(r.market(), r.windowId()), k -> new ArrayList<>()).add(r);
    }
    Map<String, Line> lines = new TreeMap<>();
    for (LocalDate day = from; day.isBefore(to); day = day.plusDays(1)) {
      Instant d0 = day.atStartOfDay(ZoneOffset.UTC).toInstant();
      Instant d1 = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
      for (Map.Entry<String, Window> e : byId.entrySet()) {
        Window w = e.getValue();
        long offered = w.nodes() * overlap(w.start(), w.end(), d0, d1);
        if (offered == 0) {
          continue;
        }
        long kept = keptNodeSeconds(w, cuts.getOrDefault(e.getKey(), List.of()), d0, d1);
        long gpus = offered * w.gpusPerNode();
        add(
            lines,
            new Line(
                w.market(),
                w.pool(),
                day,
                offered,
                offered - kept,
                0,
                0,
                0,
                0,
                0,
                0,
                gpus,
                gpus * w.reserveMicros()));
      }
      for (Lease l : leases) {
        Window w = byId.get(key(l.market(), l.windowId()));
        if (w == null) {
          continue;
        }
        Instant heldUntil =
            l.preemptAt() != null && l.preemptAt().isBefore(l.end()) ? l.preemptAt() : l.end();
        Instant billedUntil =
            max(
                l.start(),
                heldUntil.minusSeconds(l.preemptAt() == null ? 0 : l.noticeShortfallSeconds()));
        long held = overlap(l.start(), heldUntil, d0, d1);
        long billed = overlap(l.start(), billedUntil, d0, d1);
        long refunded = overlap(billedUntil, heldUntil, d0, d1);
        boolean preempted =
            l.preemptAt() != null
                && l.preemptAt().isBefore(l.end())
                && !l.preemptAt().isBefore(d0)
                && l.preemptAt().isBefore(d1);
        if (held == 0 && refunded == 0 && !preempted) {
          continue;
        }
        long gpuSeconds = held * l.nodes() * l.gpusPerNode();
        add(
            lines,
            new Line(
                w.market(),
                w.pool(),
                day,
                0,
                0,
                held * l.nodes(),
                gpuSeconds,
                Price.cost(l.priceMicros(), l.nodes(), l.gpusPerNode(), billed),
                Price.cost(l.priceMicros(), l.nodes(), l.gpusPerNode(), refunded),
                preempted ? 1 : 0,
                gpuSeconds * l.priceMicros(),
                0,
                0));
      }
    }
    List<Line> days = new ArrayList<>();
    Map<String, Line> totals = new TreeMap<>();
    for (Line l : lines.values()) {
      days.add(l);
      totals.merge(l.market() + "\u0000" + l.pool(), l, Line::plus);
    }
    days.sort(
        Comparator.comparing(Line::market)
            .thenComparing(Line::pool, Comparator.nullsFirst(Comparator.naturalOrder()))
            .thenComparing(Line::day));
    return new Result(days, List.copyOf(totals.values()));
  }

  private static void add(Map<String, Line> lines, Line l) {
    lines.merge(l.market() + "\u0000" + l.pool() + "\u0000" + l.day(), l, Line::plus);
  }

  /** The node-seconds a window keeps on offer within [d0, d1) after its revocations. */
  private static long keptNodeSeconds(Window w, List<Revocation> cuts, Instant d0, Instant d1) {
    Instant a = max(w.start(), d0);
    Instant b = min(w.end(), d1);
    if (!a.isBefore(b)) {
      return 0;
    }
    // the instants where the window's nodes may change, within [a, b)
    List<Instant> edges = new ArrayList<>();
    edges.add(a);
    for (Revocation r : cuts) {
      if (r.from().isAfter(a) && r.from().isBefore(b)) {
        edges.add(r.from());
      }
    }
    edges.add(b);
    edges.sort(Comparator.naturalOrder());
    long kept = 0;
    for (int i = 0; i + 1 < edges.size(); i++) {
      Instant at = edges.get(i);
      int nodes = w.nodes();
      for (Revocation r : cuts) {
        if (!r.from().isAfter(at)) {
          nodes = Math.min(nodes, r.keepNodes());
        }
      }
      kept += (long) nodes * (edges.get(i + 1).getEpochSecond() - at.getEpochSecond());
    }
    return kept;
  }

  /** Seconds of [a, b) within [d0, d1). */
  static long overlap(Instant a, Instant b, Instant d0, Instant d1) {
    Instant s = max(a, d0);
    Instant e = min(b, d1);
    return s.isBefore(e) ? e.getEpochSecond() - s.getEpochSecond() : 0;
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  private static String key(String market, long windowId) {
    return market + "\u0000" + windowId;
  }
}
