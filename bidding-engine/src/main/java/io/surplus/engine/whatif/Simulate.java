package io.surplus.engine.whatif;

import io.surplus.engine.BidSpec;
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
    SlotClock clock = SlotClock.DEFAULT;
    OrderBook book = new OrderBook(clock, pricing);
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
