package io.surplus.engine.whatif;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.EpochResult;
import io.surplus.engine.book.OrderBook;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The what-if command: a seeded random market run through the engine in-process, one line per
 * epoch. Each epoch advances one slot; new windows and bids arrive at the given rates.
 */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description = "Run a seeded random market through the clearing engine, one line per epoch.")
public final class Simulate implements Callable<Integer> {

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 1;

  @Option(names = "--epochs", description = "epochs to run (default: ${DEFAULT-VALUE})")
  int epochs = 20;

  @Option(names = "--bids", description = "new bids per epoch (default: ${DEFAULT-VALUE})")
  int bidsPerEpoch = 200;

  @Option(names = "--windows", description = "new windows per epoch (default: ${DEFAULT-VALUE})")
  int windowsPerEpoch = 4;

  @Option(
      names = "--pricing",
      description = "PAY_AS_CLEAR or PAY_AS_BID (default: ${DEFAULT-VALUE})")
  PricingRule pricing = PricingRule.PAY_AS_CLEAR;

  @Option(
      names = "--start",
      description = "UTC instant of the first epoch (default: ${DEFAULT-VALUE})")
  Instant start = Instant.parse("2026-11-02T00:00:00Z");

  @Option(
      names = "--repair",
      description = "clear with the repair pass after the greedy placement (default: off)")
  boolean repair;

  @Option(
      names = "--repack",
      description =
          "with --repair or --repair-compare: end the repair pass with its re-pack phase"
              + " (default: off)")
  boolean repack;

  @Option(
      names = "--repair-compare",
      description =
          "run the same market through two books, greedy alone and greedy + repair, and print"
              + " both side by side, epoch by epoch, with totals")
  boolean repairCompare;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final PrintWriter out;

  Simulate(PrintWriter out) {
    this.out = out;
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    System.exit(new CommandLine(new Simulate(out)).execute(args));
  }

  @Override
  public Integer call() {
    if (epochs < 1 || bidsPerEpoch < 0 || windowsPerEpoch < 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--epochs must be >= 1, --bids and --windows >= 0");
    }
    if (repack && !repair && !repairCompare) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--repack needs --repair or --repair-compare");
    }
    SlotClock clock = SlotClock.DEFAULT;
    if (repairCompare) {
      return compare(clock);
    }
    OrderBook book = new OrderBook(clock, pricing, repair, repack, 1024);
    RandomMarket market = new RandomMarket(seed, clock, RandomMarket.Shape.DEFAULT);
    long now = start.toEpochMilli();
    out.printf(
        "%-5s %-17s %10s %6s %6s %6s  %s%n",
        "epoch", "slot start (UTC)", "price", "leases", "nodes", "open", "reasons of open bids");
    for (int e = 0; e < epochs; e++) {
      int slot = clock.slotAtOrAfter(now);
      for (int i = 0; i < windowsPerEpoch; i++) {
        WindowSpec w = market.window(slot, clock.horizonSlots());
        book.offer(w, now);
      }
      for (int i = 0; i < bidsPerEpoch; i++) {
        BidSpec b = market.bid(slot, 4 * 96);
        if (book.place(b, now) != ResultCode.OK) {
          continue;
        }
      }
      EpochResult r = book.clear(now);
      out.printf(
          "%-5d %-17s %10s %6d %6d %6d  %s%n",
          r.epoch(),
          clock.start(r.nowSlot()).toString().substring(0, 16),
          r.leases().isEmpty() ? "-" : RandomMarket.dollars(r.clearingPrice()),
          r.leases().size(),
          r.filledNodes(),
          r.openBids(),
          histogram(r));
      now += clock.slotSeconds() * 1000L;
    }
    out.flush();
    return 0;
  }

  /**
   * Two books fed the same windows and bids: one clears greedily, the other runs the repair pass
   * too (with its re-pack phase under {@code --repack}). Per epoch, each one's leases, nodes,
   * GPU-hours and welfare (limit x GPU-hours), and what the pass added and moved; totals at the
   * end.
   */
  private int compare(SlotClock clock) {
    OrderBook greedy = new OrderBook(clock, pricing, false);
    OrderBook repaired = new OrderBook(clock, pricing, true, repack, 1024);
    RandomMarket market = new RandomMarket(seed, clock, RandomMarket.Shape.DEFAULT);
    long now = start.toEpochMilli();
    out.printf(
        "%-5s %-17s | %10s %6s %6s %9s %12s | %10s %6s %6s %9s %12s %5s %5s%n",
        "epoch",
        "slot start (UTC)",
        "g price",
        "leases",
        "nodes",
        "GPU-h",
        "welfare $",
        "r price",
        "leases",
        "nodes",
        "GPU-h",
        "welfare $",
        "+fill",
        "moved");
    long[] totalG = new long[3];
    long[] totalR = new long[3];
    long added = 0;
    long moved = 0;
    for (int e = 0; e < epochs; e++) {
      int slot = clock.slotAtOrAfter(now);
      for (int i = 0; i < windowsPerEpoch; i++) {
        WindowSpec w = market.window(slot, clock.horizonSlots());
        greedy.offer(w, now);
        repaired.offer(w, now);
      }
      for (int i = 0; i < bidsPerEpoch; i++) {
        BidSpec b = market.bid(slot, 4 * 96);
        greedy.place(b, now);
        repaired.place(b, now);
      }
      EpochResult g = greedy.clear(now);
      EpochResult r = repaired.clear(now);
      long[] sg = sums(g, clock);
      long[] sr = sums(r, clock);
      for (int i = 0; i < 3; i++) {
        totalG[i] += sg[i];
        totalR[i] += sr[i];
      }
      added += r.repairFills();
      moved += r.repairMoves();
      out.printf(
          "%-5d %-17s | %10s %6d %6d %9s %12s | %10s %6d %6d %9s %12s %5d %5d%n",
          g.epoch(),
          clock.start(g.nowSlot()).toString().substring(0, 16),
          g.leases().isEmpty() ? "-" : RandomMarket.dollars(g.clearingPrice()),
          g.leases().size(),
          sg[0],
          gpuHours(sg[1], clock),
          RandomMarket.dollars(sg[2]),
          r.leases().isEmpty() ? "-" : RandomMarket.dollars(r.clearingPrice()),
          r.leases().size(),
          sr[0],
          gpuHours(sr[1], clock),
          RandomMarket.dollars(sr[2]),
          r.repairFills(),
          r.repairMoves());
      now += clock.slotSeconds() * 1000L;
    }
    out.printf(
        "total: greedy %d nodes, %s GPU-h, welfare $%s; greedy + repair%s %d nodes, %s GPU-h,"
            + " welfare $%s (%d fills added, %d leases moved)%n",
        totalG[0],
        gpuHours(totalG[1], clock),
        RandomMarket.dollars(totalG[2]),
        repack ? " + re-pack" : "",
        totalR[0],
        gpuHours(totalR[1], clock),
        RandomMarket.dollars(totalR[2]),
        added,
        moved);
    out.flush();
    return 0;
  }

  /** Nodes filled, GPU-slots filled, and welfare (limit x GPU-hours) in micro-dollars. */
  private static long[] sums(EpochResult r, SlotClock clock) {
    long nodes = 0;
    long gpuSlots = 0;
    long welfare = 0;
    for (Lease l : r.leases()) {
      nodes += l.nodes();
      gpuSlots += l.gpuSlots();
      welfare += l.limitPrice() * l.gpuSlots() * clock.slotSeconds() / 3600;
    }
    return new long[] {nodes, gpuSlots, welfare};
  }

  /** GPU-slots as GPU-hours, exact to the slot (two decimals for 15-minute slots). */
  private static String gpuHours(long gpuSlots, SlotClock clock) {
    long centiHours = gpuSlots * clock.slotSeconds() * 100 / 3600;
    return (centiHours / 100)
        + "."
        + String.format(java.util.Locale.ROOT, "%02d", centiHours % 100);
  }

  private static String histogram(EpochResult r) {
    StringBuilder sb = new StringBuilder();
    for (Reason reason : Reason.values()) {
      int n = r.reasonCount(reason);
      if (n > 0) {
        sb.append(sb.length() == 0 ? "" : " ").append(reason).append('=').append(n);
      }
    }
    return sb.length() == 0 ? "-" : sb.toString();
  }
}
