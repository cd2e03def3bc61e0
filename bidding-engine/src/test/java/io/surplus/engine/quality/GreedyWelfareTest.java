package io.surplus.engine.quality;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.ortools.Loader;
import com.google.ortools.sat.BoolVar;
import com.google.ortools.sat.CpModel;
import com.google.ortools.sat.CpSolver;
import com.google.ortools.sat.CpSolverStatus;
import com.google.ortools.sat.IntVar;
import com.google.ortools.sat.LinearExpr;
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
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clearing quality: the greedy epoch's welfare (limit price x GPU-slots filled) against the exact
 * optimum of the same instance from OR-Tools CP-SAT, on fixed seeded small markets.
 */
class GreedyWelfareTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);
  static final int SEEDS = 40;

  /**
   * The floor for any one instance. Greedy serves price-time priority, not welfare: a high bid
   * placed at its earliest start can block two lower bids that together are worth more, and a
   * partial fill takes the largest piece rather than the best-packing one. Measured over these 40
   * seeds (all solved to proven optimality): worst 0.563 (seed 10), mean 0.936; see
   * docs/PERFORMANCE.md. The floors sit just under the measurements so that a change that makes
   * clearing worse on any instance fails here.
   */
  static final double INSTANCE_FLOOR = 0.55;

  /** The floor for the mean ratio over all instances (measured 0.936). */
  static final double MEAN_FLOOR = 0.92;

  @BeforeAll
  static void loadSolver() {
    Loader.loadNativeLibraries();
  }

  record Instance(List<WindowSpec> windows, List<BidSpec> bids) {}

  static Instance instance(long seed) {
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

  static long welfare(long limit, int nodes, int gpus, int slots) {
    return limit / 10_000 * nodes * gpus * slots; // cents x GPU-slots keeps the solver's sums small
  }

  static long greedy(Instance in) {
    OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);
    in.windows().forEach(w -> book.offer(w, NOW));
    in.bids().forEach(b -> book.place(b, NOW));
    EpochResult r = book.clear(NOW);
    long total = 0;
    for (Lease l : r.leases()) {
      total += welfare(l.limitPrice(), l.nodes(), l.gpusPerNode(), l.endSlot() - l.startSlot());
    }
    return total;
  }

  static boolean eligible(BidSpec b, WindowSpec w) {
    return w.reservePrice() <= b.limitPrice()
        && w.noticeSeconds() >= b.minNoticeSeconds()
        && (b.regionMask() & (1L << w.region())) != 0;
  }

  /**
   * The optimum: one boolean per (bid, window, start, node count) option; each bid takes at most
   * one; no window slot holds more nodes than the window offers.
   */
  static double optimum(Instance in) {
    CpModel model = new CpModel();
    List<IntVar> objVars = new ArrayList<>();
    List<Long> objCoeffs = new ArrayList<>();
    // per window, per absolute slot: the node variables that cover it
    List<List<List<IntVar>>> cover = new ArrayList<>();
    List<List<List<Long>>> coverNodes = new ArrayList<>();
    for (WindowSpec w : in.windows()) {
      List<List<IntVar>> slots = new ArrayList<>();
      for (int t = w.startSlot(); t < w.endSlot(); t++) {
        slots.add(new ArrayList<>());
      }
      cover.add(slots);
      List<List<Long>> counts = new ArrayList<>();
      for (int t = w.startSlot(); t < w.endSlot(); t++) {
        counts.add(new ArrayList<>());
      }
      coverNodes.add(counts);
    }
    for (BidSpec b : in.bids()) {
      List<BoolVar> options = new ArrayList<>();
      for (int wi = 0; wi < in.windows().size(); wi++) {
        WindowSpec w = in.windows().get(wi);
        if (!eligible(b, w)) {
          continue;
        }
        int first = Math.max(Math.max(b.earliestStart(), S), w.startSlot());
        int last = Math.min(b.latestEnd(), w.endSlot()) - b.durationSlots();
        for (int s = first; s <= last; s++) {
          for (int k = b.minNodes(); k <= b.nodes(); k++) {
            BoolVar x = model.newBoolVar("x");
            options.add(x);
            objVars.add(x);
            objCoeffs.add(welfare(b.limitPrice(), k, w.gpusPerNode(), b.durationSlots()));
            for (int t = s; t < s + b.durationSlots(); t++) {
              cover.get(wi).get(t - w.startSlot()).add(x);
              coverNodes.get(wi).get(t - w.startSlot()).add((long) k);
            }
          }
        }
      }
      if (options.size() > 1) {
        model.addLessOrEqual(LinearExpr.sum(options.toArray(new BoolVar[0])), 1);
      }
    }
    for (int wi = 0; wi < in.windows().size(); wi++) {
      for (int t = 0; t < cover.get(wi).size(); t++) {
        List<IntVar> vars = cover.get(wi).get(t);
        if (!vars.isEmpty()) {
          long[] nodes = coverNodes.get(wi).get(t).stream().mapToLong(Long::longValue).toArray();
          model.addLessOrEqual(
              LinearExpr.weightedSum(vars.toArray(new IntVar[0]), nodes),
              in.windows().get(wi).nodes());
        }
      }
    }
    if (objVars.isEmpty()) {
      return 0;
    }
    model.maximize(
        LinearExpr.weightedSum(
            objVars.toArray(new IntVar[0]),
            objCoeffs.stream().mapToLong(Long::longValue).toArray()));
    CpSolver solver = new CpSolver();
    solver.getParameters().setMaxTimeInSeconds(10).setNumWorkers(2);
    CpSolverStatus status = solver.solve(model);
    assertTrue(
        status == CpSolverStatus.OPTIMAL || status == CpSolverStatus.FEASIBLE,
        "solver status " + status);
    // when not proven optimal, the bound is an upper bound of the optimum: a conservative ratio
    if (status != CpSolverStatus.OPTIMAL) {
      System.out.printf(
          Locale.ROOT,
          "not proven optimal: %s, value %.0f, bound %.0f%n",
          status,
          solver.objectiveValue(),
          solver.bestObjectiveBound());
    }
    return status == CpSolverStatus.OPTIMAL ? solver.objectiveValue() : solver.bestObjectiveBound();
  }

  @Test
  void shouldStayCloseToTheExactOptimumOnSmallInstances() {
    double sum = 0;
    double worst = 1;
    int counted = 0;
    StringBuilder report = new StringBuilder();
    for (long seed = 1; seed <= SEEDS; seed++) {
      Instance in = instance(seed);
      long g = greedy(in);
      double opt = optimum(in);
      assertTrue(
          g <= opt + 1e-6, "greedy beats the optimum on seed " + seed + ": the model is wrong");
      if (opt == 0) {
        continue;
      }
      double ratio = g / opt;
      report.append(String.format(Locale.ROOT, " %d:%.3f", seed, ratio));
      sum += ratio;
      worst = Math.min(worst, ratio);
      counted++;
    }
    double mean = sum / counted;
    System.out.printf(
        Locale.ROOT,
        "greedy/optimum welfare over %d instances: mean %.4f, worst %.4f;%s%n",
        counted,
        mean,
        worst,
        report);
    assertTrue(worst >= INSTANCE_FLOOR, "worst ratio " + worst + " below " + INSTANCE_FLOOR);
    assertTrue(counted >= SEEDS / 2, "too few instances with any feasible fill: " + counted);
    assertTrue(mean >= MEAN_FLOOR, "mean ratio " + mean);
  }
}
