package io.surplus.feed.sim;

import io.surplus.engine.RevocationKind;
import io.surplus.feed.protocol.WindowRevoked;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Runs the training-window simulator and prints what came of it: interruptions against the
 * configured Llama 3 rate, where the node-hours went, the windows offered and their lengths, and
 * the revocations by kind and cause.
 */
@Command(
    name = "sim-stats",
    mixinStandardHelpOptions = true,
    description = "Simulates a training fleet's capacity feed and prints its statistics.")
public final class SimStats implements Callable<Integer> {

  @Mixin FleetOptions sim;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SimStats()).execute(args));
  }

  @Override
  public Integer call() {
    System.out.print(report(TrainingFleetSim.run(sim.config(), sim.seed), sim.fleet.label()));
    return 0;
  }

  /** The report for {@code r}, as printed. */
  static String report(SimResult r, String fleetName) {
    SimConfig c = r.config();
    StringBuilder out = new StringBuilder();
    int nodes = c.fleetNodes();
    line(
        out,
        "seed %d, %d days from %s, fleet %s: %d pools, %,d nodes, %,d GPUs",
        r.seed(),
        c.days(),
        c.start(),
        fleetName,
        c.fleet().size(),
        nodes,
        nodes * 8L);
    line(out, "");
    line(
        out,
        "interruptions (configured: %d unexpected + %d planned per %,d nodes x %d days)",
        c.referenceUnexpected(),
        c.referencePlanned(),
        c.referenceNodes(),
        c.referenceDays());
    interruption(out, "unexpected", r.unexpectedInterruptions(), c.expectedUnexpected());
    interruption(out, "planned", r.plannedInterruptions(), c.expectedPlanned());
    line(out, "");
    line(out, "node-hours");
    double total = r.nodeSeconds() / 3600.0;
    hours(out, "total", r.nodeSeconds(), total);
    hours(out, "training and evals", r.trainingNodeSeconds(), total);
    hours(out, "offered in windows", r.offeredNodeSeconds(), total);
    hours(out, "idle, not offered", r.idleNodeSeconds(), total);
    hours(out, "down (repair, maintenance)", r.downNodeSeconds(), total);
    line(out, "");
    Map<SimEvent.Cause, Integer> windowsByCause = new EnumMap<>(SimEvent.Cause.class);
    long[] lengths = new long[r.windows().size()];
    long[] sizes = new long[r.windows().size()];
    for (int i = 0; i < lengths.length; i++) {
      SimResult.WindowSummary w = r.windows().get(i);
      windowsByCause.merge(w.cause(), 1, Integer::sum);
      lengths[i] = w.lengthSeconds();
      sizes[i] = w.nodes();
    }
    java.util.Arrays.sort(lengths);
    java.util.Arrays.sort(sizes);
    line(out, "windows opened: %,d", lengths.length);
    for (Map.Entry<SimEvent.Cause, Integer> e : windowsByCause.entrySet()) {
      line(out, "  %-26s %,8d", label(e.getKey()), e.getValue());
    }
    line(
        out,
        "  length p50 / p90 / p99:    %s / %s / %s",
        duration(percentile(lengths, 50)),
        duration(percentile(lengths, 90)),
        duration(percentile(lengths, 99)));
    line(
        out,
        "  nodes  p50 / p90 / p99:    %d / %d / %d",
        percentile(sizes, 50),
        percentile(sizes, 90),
        percentile(sizes, 99));
    line(out, "");
    Map<RevocationKind, Integer> byKind = new EnumMap<>(RevocationKind.class);
    Map<SimEvent.Cause, Integer> byCause = new EnumMap<>(SimEvent.Cause.class);
    int extensions = 0;
    for (SimEvent e : r.events()) {
      if (e.event() instanceof WindowRevoked w) {
        byKind.merge(w.kind(), 1, Integer::sum);
        byCause.merge(e.cause(), 1, Integer::sum);
      } else if (e.cause() == SimEvent.Cause.STAGING_OVERRAN) {
        extensions++;
      }
    }
    line(out, "revocations");
    for (RevocationKind kind : RevocationKind.values()) {
      line(out, "  %-26s %,8d", kind.name().toLowerCase(Locale.ROOT), byKind.getOrDefault(kind, 0));
      for (Map.Entry<SimEvent.Cause, Integer> e : byCause.entrySet()) {
        boolean emergency = e.getKey() == SimEvent.Cause.NODE_FAILURE;
        if (emergency == (kind == RevocationKind.EMERGENCY)) {
          line(out, "    %-24s %,8d", label(e.getKey()), e.getValue());
        }
      }
    }
    line(out, "extensions (staging overran)  %,8d", extensions);
    line(out, "feed events                   %,8d", r.events().size());
    return out.toString();
  }

  private static void interruption(StringBuilder out, String what, long seen, double expected) {
    line(
        out,
        "  %-26s %,8d   expected %,.1f +/- %.1f (Poisson sd), %+.1f sd",
        what,
        seen,
        expected,
        Math.sqrt(expected),
        expected > 0 ? (seen - expected) / Math.sqrt(expected) : 0.0);
  }

  private static void hours(StringBuilder out, String what, long seconds, double total) {
    double h = seconds / 3600.0;
    line(out, "  %-26s %,12.0f  %5.1f%%", what, h, 100 * h / total);
  }

  private static String label(SimEvent.Cause cause) {
    return cause.name().toLowerCase(Locale.ROOT).replace('_', ' ');
  }

  /** Nearest-rank percentile of sorted values. */
  static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }

  private static String duration(long seconds) {
    long h = seconds / 3600;
    long m = (seconds % 3600) / 60;
    return h > 0 ? String.format(Locale.ROOT, "%dh%02dm", h, m) : m + "m";
  }

  private static void line(StringBuilder out, String format, Object... args) {
    out.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  /** Accepts the fleet's name in any case. */
}
