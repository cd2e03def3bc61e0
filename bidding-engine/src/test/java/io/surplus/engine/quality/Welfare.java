package io.surplus.engine.quality;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.ortools.Loader;
import com.google.ortools.sat.BoolVar;
import com.google.ortools.sat.CpModel;
import com.google.ortools.sat.CpSolver;
import com.google.ortools.sat.CpSolverStatus;
import com.google.ortools.sat.IntVar;
import com.google.ortools.sat.LinearExpr;
import com.google.ortools.sat.LinearExprBuilder;
import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.EpochResult;
import io.surplus.engine.book.OrderBook;
import io.surplus.engine.whatif.RandomMarket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The clearing-quality measurement shared by the small and medium sets: seeded one-epoch markets,
 * cleared by the engine (greedy alone, and greedy + repair pass) and solved by OR-Tools CP-SAT for
 * the welfare optimum (limit x GPU-slots), with or without price-time priority's constraint that
 * every bid the greedy filled keeps its fill and its nodes.
 */
final class Welfare {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);

  /** Medium markets: windows up to 16 nodes, bids up to 8 nodes and 2 hours. */
  static final RandomMarket.Shape MEDIUM = new RandomMarket.Shape(16, 8, 8, 2, 0.3, 0.1, 0.1);

  static {
    // every user solves with CP-SAT, whose native libraries load once per JVM
    Loader.loadNativeLibraries();
  }

  private Welfare() {}

  record Instance(List<WindowSpec> windows, List<BidSpec> bids) {}

  /** 3-5 windows of up to 6 nodes, 8-15 bids of up to 4 nodes and 1-4 slots, over 24 slots. */
  static Instance small(long seed) {
    RandomMarket m = new RandomMarket(seed, CLOCK, RandomMarket.Shape.SMALL);
    List<WindowSpec> windows = new ArrayList<>();
    int wc = 3 + m.random().nextInt(3);
    for (int i = 0; i < wc; i++) {
      windows.add(m.window(S, 24));
    }
    List<BidSpec> bids = new ArrayList<>();
    int bc = 8 + m.random().nextInt(8);
    for (int i = 0; i < bc; i++) {
      bids.add(m.bid(S, 24));
    }
    return new Instance(windows, bids);
  }

  /** {@code windows} windows and {@code bids} bids of {@link #MEDIUM} shape over {@code span}. */
  static Instance medium(long seed, int windowCount, int bidCount, int span) {
    RandomMarket m = new RandomMarket(seed, CLOCK, MEDIUM);
    List<WindowSpec> windows = new ArrayList<>();
    for (int i = 0; i < windowCount; i++) {
      windows.add(m.window(S, span));
    }
    List<BidSpec> bids = new ArrayList<>();
    for (int i = 0; i < bidCount; i++) {
      bids.add(m.bid(S, span));
    }
    return new Instance(windows, bids);
  }

  /**
   * The medium set's instance {@code seed}: 20-30 windows and 200-300 bids over a 24-slot range
   * (the same for every seed on every machine).
   */
  static Instance medium(long seed) {
    return medium(seed, 20 + (int) (seed * 7 % 11), 200 + (int) (seed * 37 % 101), 24);
  }

  static long welfare(long limit, int nodes, int gpus, int slots) {
    return limit / 10_000 * nodes * gpus * slots; // cents x GPU-slots keeps the solver's sums small
  }

  static EpochResult clear(Instance in, boolean repair) {
    return clear(in, repair, false);
  }

  /** {@code in} cleared in one epoch: greedy, with the repair pass, and with its re-pack phase. */
  static EpochResult clear(Instance in, boolean repair, boolean repack) {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR, repair, repack, 1024);
    in.windows().forEach(w -> book.offer(w, NOW));
    in.bids().forEach(b -> book.place(b, NOW));
    return book.clear(NOW);
  }

  static long welfare(EpochResult r) {
    long total = 0;
    for (Lease l : r.leases()) {
      total += welfare(l.limitPrice(), l.nodes(), l.gpusPerNode(), l.endSlot() - l.startSlot());
    }
    return total;
  }

  static long gpuSlots(EpochResult r) {
    long total = 0;
    for (Lease l : r.leases()) {
      total += l.gpuSlots();
    }
    return total;
  }

  /**
   * What the repair pass, and the pass with its re-pack phase, add over a set of instances:
   * GPU-slots sold by the greedy alone, with the pass and with the phase too, fills each added and
   * leases each moved.
   */
  static final class Totals {
    long greedySlots;
    long repairSlots;
    long repackSlots;
    int fills;
    int moves;
    int repackFills;
    int repackMoves;

    /**
     * Adds one instance, cleared by the greedy alone ({@code g}), with the pass ({@code r}) and
     * with the pass and its re-pack phase ({@code q}).
     */
    void add(EpochResult g, EpochResult r, EpochResult q) {
      greedySlots += gpuSlots(g);
      repairSlots += gpuSlots(r);
      repackSlots += gpuSlots(q);
      fills += r.repairFills();
      moves += r.repairMoves();
      repackFills += q.repairFills();
      repackMoves += q.repairMoves();
    }

    /**
     * The report's lines on the greedy, the pass and the phase: {@code greedy}, {@code repaired}
     * and {@code repacked} (from {@link #summary}), what each sold, the fills added and leases
     * moved.
     */
    String lines(double[] greedy, double[] repaired, double[] repacked) {
      return String.format(
          Locale.ROOT,
          "  greedy                    %s, %.2f GPU-h sold%n"
              + "  greedy + repair           %s, %.2f GPU-h sold (%d fills added, %d leases moved)%n"
              + "  greedy + repair + re-pack %s, %.2f GPU-h sold (%d fills added, %d leases moved)%n",
          format(greedy),
          gpuHours(greedySlots),
          format(repaired),
          gpuHours(repairSlots),
          fills,
          moves,
          format(repacked),
          gpuHours(repackSlots),
          repackFills,
          repackMoves);
    }
  }

  /** The nodes of every bid filled in {@code r}: what priority says must stay filled. */
  static Map<Long, Integer> filled(EpochResult r) {
    Map<Long, Integer> nodes = new HashMap<>();
    for (Lease l : r.leases()) {
      nodes.put(l.bidId(), l.nodes());
    }
    return nodes;
  }

  static boolean eligible(BidSpec b, WindowSpec w) {
    return w.reservePrice() <= b.limitPrice()
        && w.noticeSeconds() >= b.minNoticeSeconds()
        && (b.regionMask() & (1L << w.region())) != 0;
  }

  /** What the solver found: the reference is the optimum when proven, else the proven bound. */
  record Solved(CpSolverStatus status, double value, double bound) {
    boolean optimal() {
      return status == CpSolverStatus.OPTIMAL;
    }

    double reference() {
      return optimal() ? value : bound;
    }
  }

  /**
   * The welfare optimum: per bid, window and start a boolean (and, for a bid that takes partial
   * fills, its node count); at most one option per bid; no window slot holds more nodes than it
   * offers. With {@code keep}, each bid named there must fill with exactly that many nodes (at any
   * start and window it allows): the best any pass that keeps the greedy's fills can reach.
   */
  static Solved solve(Instance in, double seconds, Map<Long, Integer> keep) {
    return solve(in, seconds, keep, null);
  }

  /**
   * {@link #solve(Instance, double, Map)}, starting the search from {@code hint}'s leases (a
   * solution the engine found), which only helps the solver to a good solution sooner; the bound it
   * proves is the same kind of bound.
   */
  static Solved solve(Instance in, double seconds, Map<Long, Integer> keep, EpochResult hint) {
    return solve(in, seconds, keep, hint, 2, 1);
  }

  /**
   * {@link #solve(Instance, double, Map, EpochResult)} with {@code workers} search workers and
   * CP-SAT's {@code linearization_level} (1, its default, or 2 for a tighter LP and so a tighter
   * bound, at more time per node).
   */
  static Solved solve(
      Instance in,
      double seconds,
      Map<Long, Integer> keep,
      EpochResult hint,
      int workers,
      int linearization) {
    Map<Long, Lease> hinted = new HashMap<>();
    if (hint != null) {
      hint.leases().forEach(l -> hinted.put(l.bidId(), l));
    }
    CpModel model = new CpModel();
    LinearExprBuilder objective = LinearExpr.newBuilder();
    int wn = in.windows().size();
    LinearExprBuilder[][] cover = new LinearExprBuilder[wn][];
    for (int wi = 0; wi < wn; wi++) {
      WindowSpec w = in.windows().get(wi);
      cover[wi] = new LinearExprBuilder[w.endSlot() - w.startSlot()];
    }
    boolean any = false;
    for (BidSpec b : in.bids()) {
      Integer fixed = keep == null ? null : keep.get(b.id());
      int lo = fixed != null ? fixed : b.minNodes();
      int hi = fixed != null ? fixed : b.nodes();
      List<BoolVar> options = new ArrayList<>();
      int d = b.durationSlots();
      Lease h = hinted.get(b.id());
      for (int wi = 0; wi < wn; wi++) {
        WindowSpec w = in.windows().get(wi);
        if (!eligible(b, w)) {
          continue;
        }
        for (int s = firstStart(b, w); s <= lastStart(b, w); s++) {
          if (hi - lo < INT_NODES_FROM) {
            // one boolean per node count: the tight formulation, exact and fast when few
            for (int k = lo; k <= hi; k++) {
              BoolVar x = model.newBoolVar("x");
              options.add(x);
              if (hint != null) {
                model.addHint(x, is(h, w, s, k));
              }
              objective.addTerm(x, welfare(b.limitPrice(), k, w.gpusPerNode(), d));
              for (int t = s; t < s + d; t++) {
                slot(cover, wi, t - w.startSlot()).addTerm(x, k);
              }
            }
          } else {
            BoolVar x = model.newBoolVar("x");
            options.add(x);
            IntVar n = model.newIntVar(0, hi, "n");
            if (hint != null) {
              boolean on = h != null && is(h, w, s, h.nodes());
              model.addHint(x, on);
              model.addHint(n, on ? h.nodes() : 0);
            }
            model.addLessOrEqual(LinearExpr.newBuilder().add(n).addTerm(x, -hi), 0);
            model.addLessOrEqual(LinearExpr.newBuilder().addTerm(x, lo).addTerm(n, -1), 0);
            objective.addTerm(n, welfare(b.limitPrice(), 1, w.gpusPerNode(), d));
            for (int t = s; t < s + d; t++) {
              slot(cover, wi, t - w.startSlot()).add(n);
            }
          }
        }
      }
      if (fixed != null) {
        assertTrue(!options.isEmpty(), "a filled bid has no option: " + b);
        model.addEquality(LinearExpr.sum(options.toArray(new BoolVar[0])), 1);
      } else if (options.size() > 1) {
        model.addLessOrEqual(LinearExpr.sum(options.toArray(new BoolVar[0])), 1);
      }
      any |= !options.isEmpty();
    }
    if (!any) {
      return new Solved(CpSolverStatus.OPTIMAL, 0, 0);
    }
    for (int wi = 0; wi < wn; wi++) {
      for (LinearExprBuilder slot : cover[wi]) {
        if (slot != null) {
          model.addLessOrEqual(slot, in.windows().get(wi).nodes());
        }
      }
    }
    model.maximize(objective);
    CpSolver solver = new CpSolver();
    solver
        .getParameters()
        .setMaxTimeInSeconds(seconds)
        .setNumWorkers(workers)
        .setLinearizationLevel(linearization)
        .setRandomSeed(1);
    CpSolverStatus status = solver.solve(model);
    // UNKNOWN: out of time before any solution; its bound still holds
    assertTrue(
        status == CpSolverStatus.OPTIMAL
            || status == CpSolverStatus.FEASIBLE
            || status == CpSolverStatus.UNKNOWN,
        "solver status " + status);
    return new Solved(status, solver.objectiveValue(), solver.bestObjectiveBound());
  }

  /** The first slot bid {@code b} may start in window {@code w} (from now on). */
  static int firstStart(BidSpec b, WindowSpec w) {
    return Math.max(Math.max(b.earliestStart(), S), w.startSlot());
  }

  /** The last slot bid {@code b} may start in window {@code w}; below the first: none. */
  static int lastStart(BidSpec b, WindowSpec w) {
    return Math.min(b.latestEnd(), w.endSlot()) - b.durationSlots();
  }

  private static boolean is(Lease h, WindowSpec w, int start, int nodes) {
    return h != null && h.windowId() == w.id() && h.startSlot() == start && h.nodes() == nodes;
  }

  /** Bids with this many node counts or more get one integer node variable per option. */
  static final int INT_NODES_FROM = 4;

  private static LinearExprBuilder slot(LinearExprBuilder[][] cover, int wi, int rel) {
    if (cover[wi][rel] == null) {
      cover[wi][rel] = LinearExpr.newBuilder();
    }
    return cover[wi][rel];
  }

  /** Mean, 5th percentile (nearest rank) and worst of {@code ratios}. */
  static double[] summary(List<Double> ratios) {
    double[] r = ratios.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(r);
    double mean = Arrays.stream(r).sum() / r.length;
    int p5 = Math.max(0, (int) Math.ceil(0.05 * r.length) - 1);
    return new double[] {mean, r[p5], r[0]};
  }

  static String format(double[] s) {
    return String.format(Locale.ROOT, "mean %.4f, p5 %.4f, worst %.4f", s[0], s[1], s[2]);
  }

  /** GPU-slots as GPU-hours. */
  static double gpuHours(long gpuSlots) {
    return gpuSlots * (double) CLOCK.slotSeconds() / 3600;
  }
}
