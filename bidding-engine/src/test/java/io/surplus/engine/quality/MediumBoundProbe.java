package io.surplus.engine.quality;

import io.surplus.engine.book.EpochResult;
import java.util.Locale;

/**
 * How tight a bound CP-SAT proves on the medium set with more time, more workers and a stronger LP,
 * and where the pass and the pass with its re-pack phase stand against it (the solve starts from
 * the re-packed allocation): {@code java ... MediumBoundProbe <seconds> <workers> <linearization>
 * [first last [priority]]}; with {@code priority}, every bid the greedy filled keeps its fill and
 * its nodes.
 */
public final class MediumBoundProbe {

  public static void main(String[] args) {
    double seconds = Double.parseDouble(args[0]);
    int workers = Integer.parseInt(args[1]);
    int lin = Integer.parseInt(args[2]);
    long first = args.length > 3 ? Long.parseLong(args[3]) : 1;
    long last = args.length > 4 ? Long.parseLong(args[4]) : MediumWelfareTest.SEEDS;
    boolean priority = args.length > 5 && args[5].equals("priority");
    double sumBound = 0;
    double sumBest = 0;
    double sumPackBound = 0;
    double sumPackBest = 0;
    int n = 0;
    for (long seed = first; seed <= last; seed++) {
      Welfare.Instance in = Welfare.medium(seed);
      EpochResult r = Welfare.clear(in, true);
      EpochResult q = Welfare.clear(in, true, true);
      long wr = Welfare.welfare(r);
      long wq = Welfare.welfare(q);
      long t0 = System.nanoTime();
      java.util.Map<Long, Integer> keep =
          priority ? Welfare.filled(Welfare.clear(in, false)) : null;
      Welfare.Solved s = Welfare.solve(in, seconds, keep, q, workers, lin);
      double secs = (System.nanoTime() - t0) / 1e9;
      sumBound += wr / s.bound();
      sumBest += wr / s.value();
      sumPackBound += wq / s.bound();
      sumPackBest += wq / s.value();
      n++;
      System.out.printf(
          Locale.ROOT,
          "seed %d: %s in %.1f s, repair/bound %.4f, repair/best %.4f, re-pack/bound %.4f,"
              + " re-pack/best %.4f, best/bound %.4f%n",
          seed,
          s.status(),
          secs,
          wr / s.bound(),
          wr / s.value(),
          wq / s.bound(),
          wq / s.value(),
          s.value() / s.bound());
    }
    System.out.printf(
        Locale.ROOT,
        "mean repair/bound %.4f, repair/best %.4f, re-pack/bound %.4f, re-pack/best %.4f%n",
        sumBound / n,
        sumBest / n,
        sumPackBound / n,
        sumPackBest / n);
  }
}
