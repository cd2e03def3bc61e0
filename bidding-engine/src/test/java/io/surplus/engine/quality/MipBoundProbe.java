package io.surplus.engine.quality;

import com.google.ortools.linearsolver.MPConstraint;
import com.google.ortools.linearsolver.MPObjective;
import com.google.ortools.linearsolver.MPSolver;
import com.google.ortools.linearsolver.MPVariable;
import io.surplus.engine.BidSpec;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.EpochResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The medium set's welfare optimum by a MIP solver (SCIP, bundled with OR-Tools) on the same model
 * as {@link Welfare#solve}: {@code java ... MipBoundProbe <seconds> [first last] [priority]}.
 */
public final class MipBoundProbe {

  public static void main(String[] args) {
    double seconds = Double.parseDouble(args[0]);
    long first = args.length > 1 ? Long.parseLong(args[1]) : 1;
    long last = args.length > 2 ? Long.parseLong(args[2]) : MediumWelfareTest.SEEDS;
    boolean priority = args.length > 3 && args[3].equals("priority");
    for (long seed = first; seed <= last; seed++) {
      Welfare.Instance in = Welfare.medium(seed);
      EpochResult r = Welfare.clear(in, true);
      long wr = Welfare.welfare(r);
      Map<Long, Integer> keep = priority ? Welfare.filled(Welfare.clear(in, false)) : null;
      long t0 = System.nanoTime();
      double[] s = solve(in, seconds, keep);
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "seed %d: %s in %.1f s, best %.0f bound %.0f, repair/bound %.4f, repair/best %.4f,"
              + " best/bound %.4f%n",
          seed,
          s[2] == 0 ? "OPTIMAL" : "FEASIBLE",
          secs,
          s[0],
          s[1],
          wr / s[1],
          wr / s[0],
          s[0] / s[1]);
    }
  }

  /** {best, bound, 0 if proven optimal else 1}. */
  static double[] solve(Welfare.Instance in, double seconds, Map<Long, Integer> keep) {
    MPSolver solver = MPSolver.createSolver("SCIP");
    if (solver == null) {
      throw new IllegalStateException("no SCIP in this OR-Tools");
    }
    solver.setTimeLimit((long) (seconds * 1000));
    MPObjective objective = solver.objective();
    objective.setMaximization();
    int wn = in.windows().size();
    List<List<MPConstraint>> cover = new ArrayList<>();
    for (int wi = 0; wi < wn; wi++) {
      WindowSpec w = in.windows().get(wi);
      List<MPConstraint> slots = new ArrayList<>();
      for (int t = w.startSlot(); t < w.endSlot(); t++) {
        slots.add(solver.makeConstraint(0, w.nodes()));
      }
      cover.add(slots);
    }
    for (BidSpec b : in.bids()) {
      Integer fixed = keep == null ? null : keep.get(b.id());
      int lo = fixed != null ? fixed : b.minNodes();
      int hi = fixed != null ? fixed : b.nodes();
      MPConstraint one = fixed != null ? solver.makeConstraint(1, 1) : solver.makeConstraint(0, 1);
      int d = b.durationSlots();
      for (int wi = 0; wi < wn; wi++) {
        WindowSpec w = in.windows().get(wi);
        if (!Welfare.eligible(b, w)) {
          continue;
        }
        for (int s = Welfare.firstStart(b, w); s <= Welfare.lastStart(b, w); s++) {
          MPVariable x = solver.makeBoolVar("x");
          one.setCoefficient(x, 1);
          long per = Welfare.welfare(b.limitPrice(), 1, w.gpusPerNode(), d);
          if (lo == hi) {
            objective.setCoefficient(x, per * lo);
            for (int t = s; t < s + d; t++) {
              cover.get(wi).get(t - w.startSlot()).setCoefficient(x, lo);
            }
          } else {
            MPVariable n = solver.makeIntVar(0, hi, "n");
            MPConstraint upper = solver.makeConstraint(Double.NEGATIVE_INFINITY, 0);
            upper.setCoefficient(n, 1);
            upper.setCoefficient(x, -hi);
            MPConstraint lower = solver.makeConstraint(Double.NEGATIVE_INFINITY, 0);
            lower.setCoefficient(x, lo);
            lower.setCoefficient(n, -1);
            objective.setCoefficient(n, per);
            for (int t = s; t < s + d; t++) {
              cover.get(wi).get(t - w.startSlot()).setCoefficient(n, 1);
            }
          }
        }
      }
    }
    MPSolver.ResultStatus status = solver.solve();
    double best = objective.value();
    double bound = objective.bestBound();
    return new double[] {best, bound, status == MPSolver.ResultStatus.OPTIMAL ? 0 : 1};
  }
}
