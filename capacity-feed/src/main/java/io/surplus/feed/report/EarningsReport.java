package io.surplus.feed.report;

import io.surplus.engine.Price;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.feed.sim.DemandGenerator;
import io.surplus.feed.sim.FleetOptions;
import io.surplus.feed.sim.PoolSpec;
import io.surplus.feed.sim.SimConfig;
import io.surplus.feed.sim.SimEvent.Cause;
import io.surplus.feed.sim.SimResult;
import io.surplus.feed.sim.TrainingFleetSim;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./surplus report}: runs the simulated fleet and its outside demand through the clearing
 * engine in process ({@link EarningsReplay}), prints the key figures and writes an HTML report with
 * charts ({@link ReportPage}).
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description =
        "Replays the simulated fleet and its demand through the clearing engine and reports what"
            + " the surplus would earn.")
public final class EarningsReport implements Callable<Integer> {

  @Mixin FleetOptions fleetOptions;

  @Option(
      names = "--epoch-seconds",
      defaultValue = "" + EarningsReplay.DEFAULT_EPOCH_SECONDS,
      description = "Simulated seconds between epochs (default ${DEFAULT-VALUE}: one per slot).")
  int epochSeconds;

  @Option(
      names = "--out",
      defaultValue = "target/report/surplus-report.html",
      description =
          "The HTML report; echarts.min.js is written beside it (default ${DEFAULT-VALUE}).")
  Path out;

  public static void main(String[] args) {
    System.exit(new CommandLine(new EarningsReport()).execute(args));
  }

  @Override
  public Integer call() {
    SimConfig config = fleetOptions.config();
    long seed = fleetOptions.seed;
    int days = fleetOptions.days;
    long started = System.nanoTime();
    SimResult sim = TrainingFleetSim.run(config, seed);
    EarningsReplay.Outcome o =
        EarningsReplay.run(
            config.fleet(),
            config.start(),
            days,
            sim.events(),
            DemandGenerator.daily(DemandGenerator.Config.defaults(), seed, config.start(), days),
            SlotClock.DEFAULT,
            epochSeconds);
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
    ReportPage.Run run =
        new ReportPage.Run(seed, fleetOptions.fleet.label(), config.start(), days, epochSeconds);
    String summary = summary(run, config.fleet(), o, sim.offeredNodeSeconds());
    System.out.print(summary);
    ReportPage.write(out, ReportPage.data(run, config.fleet(), o.ledger()), summary);
    System.out.printf("report: %s (replayed in %d s)%n", out.toAbsolutePath(), seconds);
    return 0;
  }

  /** The key figures, as printed. */
  static String summary(
      ReportPage.Run run, List<PoolSpec> fleet, EarningsReplay.Outcome o, long simOffered) {
    Ledger l = o.ledger();
    EarningsReplay.Counts c = o.counts();
    StringBuilder s = new StringBuilder();
    line(
        s,
        "seed %d, %d days from %s, fleet %s: an epoch every %d s on %d s slots",
        run.seed(),
        run.days(),
        run.start(),
        run.fleet(),
        run.epochSeconds(),
        l.slotSeconds());
    line(
        s,
        "bids: %,d arrived, %,d placed, %,d filled (%,d leases); windows offered %,d, extended %,d,"
            + " revoked %,d; epochs %,d",
        c.bidsArrived,
        c.bidsPlaced,
        c.bidsFilled,
        c.leases,
        c.windowsOffered,
        c.extensionsApplied,
        c.revocationsApplied,
        c.epochs);
    for (Map.Entry<String, Long> r : c.refused.entrySet()) {
      line(s, "  refused: %-44s %,d", r.getKey(), r.getValue());
    }
    line(s, "");
    line(
        s,
        "%-12s %12s %12s %12s %7s %10s %10s",
        "node-hours",
        "offered",
        "sold",
        "idle",
        "sold %",
        "rev. plan",
        "rev. emer");
    long[] t = new long[5];
    for (int p = 0; p < fleet.size(); p++) {
      long[] v = {
        l.offeredNodeSeconds(p),
        l.soldNodeSeconds(p),
        l.idleNodeSeconds(p),
        l.revokedNodeSeconds(p, RevocationKind.PLANNED),
        l.revokedNodeSeconds(p, RevocationKind.EMERGENCY)
      };
      hoursRow(s, fleet.get(p).name(), v);
      for (int i = 0; i < v.length; i++) {
        t[i] += v[i];
      }
    }
    hoursRow(s, "total", t);
    line(
        s,
        "  (the simulator's own count of node-hours in windows: %,d; the market's is lower by"
            + " slot rounding and refused windows)",
        Math.round(simOffered / 3600.0));
    line(s, "");
    line(s, "idle node-hours by cause");
    for (Cause cause : Ledger.OFFER_CAUSES) {
      long idle = 0;
      long offered = 0;
      for (int p = 0; p < fleet.size(); p++) {
        idle += l.idleNodeSeconds(p, cause);
        offered += l.offeredNodeSeconds(p, cause);
      }
      line(
          s,
          "  %-22s %12s of %12s offered (%s idle)",
          cause.name().toLowerCase(Locale.ROOT).replace('_', ' '),
          nodeHours(idle),
          nodeHours(offered),
          percent(idle, offered));
    }
    line(s, "");
    line(
        s,
        "%-12s %14s %12s %10s %10s %8s",
        "revenue",
        "USD",
        "credits USD",
        "avg price",
        "reserve",
        "x res.");
    long revenue = 0;
    long credit = 0;
    long gpuSeconds = 0;
    for (int p = 0; p < fleet.size(); p++) {
      PoolSpec spec = fleet.get(p);
      long avg = Ledger.averagePrice(l.grossRevenue(p), l.soldGpuSeconds(p));
      line(
          s,
          "%-12s %,14.2f %,12.2f %10s %10s %8s",
          spec.name(),
          Ledger.dollars(l.grossRevenue(p) - l.noticeCredit(p)),
          Ledger.dollars(l.noticeCredit(p)),
          Price.format(avg),
          Price.format(spec.reservePrice()),
          multiple(avg, spec.reservePrice()));
      revenue += l.grossRevenue(p);
      credit += l.noticeCredit(p);
      gpuSeconds += l.soldGpuSeconds(p);
    }
    line(
        s,
        "%-12s %,14.2f %,12.2f %10s",
        "total",
        Ledger.dollars(revenue - credit),
        Ledger.dollars(credit),
        Price.format(Ledger.averagePrice(revenue, gpuSeconds)));
    line(s, "");
    line(s, "preemptions (leases cut by revocations)");
    for (RevocationKind k : RevocationKind.values()) {
      long leases = 0;
      long nodes = 0;
      for (int p = 0; p < fleet.size(); p++) {
        leases += l.preemptions(p, k);
        nodes += l.preemptedNodes(p, k);
      }
      long[] given = l.noticeGiven(k);
      line(
          s,
          "  %-10s %,7d leases, %,7d nodes; notice given min %s, median %s; least promised %s;"
              + " owed and not given %,d s",
          k.name().toLowerCase(Locale.ROOT),
          leases,
          nodes,
          given.length == 0 ? "-" : given[0] + " s",
          given.length == 0 ? "-" : given[(given.length - 1) / 2] + " s",
          l.noticePromisedMin(k) < 0 ? "-" : l.noticePromisedMin(k) + " s",
          l.noticeShortfallSeconds(k));
    }
    return s.toString();
  }

  private static void hoursRow(StringBuilder s, String name, long[] v) {
    line(
        s,
        "%-12s %12s %12s %12s %7s %10s %10s",
        name,
        nodeHours(v[0]),
        nodeHours(v[1]),
        nodeHours(v[2]),
        percent(v[1], v[0]),
        nodeHours(v[3]),
        nodeHours(v[4]));
  }

  private static String nodeHours(long nodeSeconds) {
    return String.format(Locale.ROOT, "%,d", Math.round(nodeSeconds / 3600.0));
  }

  private static String percent(long part, long whole) {
    return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
  }

  private static String multiple(long price, long reserve) {
    return price == 0 ? "-" : String.format(Locale.ROOT, "%.2f", (double) price / reserve);
  }

  private static void line(StringBuilder s, String format, Object... args) {
    s.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}
