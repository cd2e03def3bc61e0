package io.surplus.load.tools;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The summary of one {@code ./surplus load} run: the simulation's own figures beside the ceilings
 * measured in the same run (as ratios, which survive a noisy machine), and the checks Gatling
 * cannot make itself: the no-loss audit, the subscribers' epoch lag and gaps, dropped feed
 * arrivals, the service's peak heap, and the CPU shares of the service, its Cassandra node and the
 * load generator. Exits 1 when a check fails.
 *
 * <p>Usage: {@code LoadReport <out dir> <simulation>}
 */
public final class LoadReport {

  /** The service's heap must stay under this through MixedDay. */
  static final long HEAP_LIMIT_BYTES = 1L << 30;

  private final Path out;
  private final List<String> failures = new ArrayList<>();

  private LoadReport(Path out) {
    this.out = out;
  }

  public static void main(String[] args) throws IOException {
    LoadReport r = new LoadReport(Path.of(args[0]));
    r.report(args[1]);
    if (!r.failures.isEmpty()) {
      System.out.println("FAILED: " + String.join("; ", r.failures));
      System.exit(1);
    }
    System.out.println("all checks passed");
  }

  private void report(String simulation) throws IOException {
    Properties sim = load(simulation);
    Properties http = load("HttpCeiling");
    Properties cql = load("CassandraCeiling");
    System.out.println();
    System.out.println("== " + simulation + " ==");
    sim.stringPropertyNames().stream().sorted().forEach(k -> line(k, sim.getProperty(k)));
    double httpCeiling = number(http, "requestsPerSecondMedian");
    double cqlCeiling = number(cql, "insertsPerSecondMedian");
    if (httpCeiling > 0) {
      line("ceiling: bare HTTP route, requests/s (median)", fmt(httpCeiling));
    }
    if (cqlCeiling > 0) {
      line("ceiling: raw Cassandra inserts/s (median)", fmt(cqlCeiling));
      line("ceiling: raw Cassandra insert p99 (us)", cql.getProperty("p99Micros"));
    }
    for (String rateKey : List.of("ackedBidsPerSecondMedian", "appliedEventsPerSecondMedian")) {
      double rate = number(sim, rateKey);
      if (rate > 0 && httpCeiling > 0) {
        line(rateKey + " / HTTP ceiling", String.format("%.3f", rate / httpCeiling));
      }
      if (rate > 0 && cqlCeiling > 0) {
        line(rateKey + " / Cassandra ceiling", String.format("%.3f", rate / cqlCeiling));
      }
    }
    wrkReads(sim);
    for (String count : List.of("ackedBids", "appliedEvents", "epochMessages")) {
      if (sim.getProperty(count) != null && number(sim, count) == 0) {
        failures.add(count + " is 0: the simulation did nothing it claims to measure");
      }
    }
    check(sim, "droppedArrivals", "feed arrivals found no idle provider (the service fell behind)");
    check(
        sim,
        "droppedFeedArrivals",
        "feed arrivals found no idle provider (the service fell behind)");
    epochLag(sim);
    check(sim, "missedEpochs", "epochs a subscriber never saw");
    check(sim, "reopenedStreams", "subscriber streams the server closed as too slow");
    check(sim, "streamsClosedTooSlow", "streams the service closed as too slow (its /metrics)");
    if (simulation.equals("BidSubmission") || simulation.equals("MixedDay")) {
      Properties audit = load("NoLossAudit");
      if (audit.isEmpty()) {
        failures.add("the no-loss audit did not run");
      } else {
        line("no-loss audit: acknowledged bids", audit.getProperty("ackedBids"));
        check(audit, "missingThroughApi", "acknowledged bids missing through the API");
        check(audit, "missingInJournal", "acknowledged bids missing in Cassandra");
      }
    }
    cpuShares(sim);
    Path heap = out.resolve("heap.txt");
    if (Files.exists(heap)) {
      long max =
          Files.readAllLines(heap).stream()
              .filter(s -> !s.isBlank())
              .mapToLong(s -> (long) Double.parseDouble(s.strip()))
              .max()
              .orElse(0);
      line("service heap used, peak (MiB)", Long.toString(max >> 20));
      if (simulation.equals("MixedDay") && max >= HEAP_LIMIT_BYTES) {
        failures.add("service heap peaked at " + (max >> 20) + " MiB, over 1 GiB");
      }
    }
  }

  /**
   * The reads wrk made ({@code ./surplus load MarketReaders --wrk}): their rate against the bare
   * route's ceiling wrk measured in the same run, and their latency, held to the simulation's p99
   * limit with no failed answer.
   */
  private void wrkReads(Properties sim) throws IOException {
    Properties reads = load("WrkReads");
    if (!"wrk".equals(sim.getProperty("readsBy"))) {
      return;
    }
    if (reads.isEmpty()) {
      failures.add("wrk's reads left no figures");
      return;
    }
    double rate = number(reads, "perSecond");
    line("reads by wrk: answered", fmt(number(reads, "requests")));
    line("reads by wrk: per second", fmt(rate));
    for (String p : List.of("p50", "p90", "p99", "p999", "max")) {
      line(
          "reads by wrk: " + p + " (ms)", String.format("%.1f", number(reads, p + "Micros") / 1e3));
    }
    Properties cold = load("WrkCeilingCold");
    if (!cold.isEmpty()) {
      line(
          "ceiling by wrk before the warm-up (cold JIT), requests/s",
          fmt(number(cold, "perSecond")));
    }
    Properties ceiling = load("WrkCeiling");
    double bare = number(ceiling, "perSecond");
    if (bare > 0) {
      line("ceiling by wrk: bare HTTP route, requests/s", fmt(bare));
      line(
          "ceiling by wrk: bare route p99 (ms)",
          String.format("%.1f", number(ceiling, "p99Micros") / 1e3));
      line("reads by wrk / their ceiling", String.format("%.3f", rate / bare));
    }
    check(reads, "non2xx", "reads answered with a status other than 2xx");
    check(reads, "socketErrors", "reads that met a socket error or a 10 s timeout");
    double limit = number(sim, "readsP99LimitMillis");
    double p99 = number(reads, "p99Micros") / 1e3;
    if (limit > 0 && p99 > limit) {
      failures.add(String.format("reads p99 %.1f ms over the limit of %.0f ms", p99, limit));
    }
  }

  /**
   * Who used the box's CPU during the load phase, from the samples {@code ./surplus load} took
   * every second ({@code cpu.txt}: millis, box ticks, idle ticks, service, Cassandra, generator,
   * then the milliseconds the threads of the last three waited for a core): each as a share of the
   * whole box (all cores), so a generator that eats the box shows; and how long each one's threads
   * were runnable but not running, per second of the load, summed over its threads (a request waits
   * for a core while its thread does).
   */
  private void cpuShares(Properties sim) throws IOException {
    Path file = out.resolve("cpu.txt");
    long from = (long) number(sim, "loadFromMillis");
    long to = (long) number(sim, "loadToMillis");
    if (!Files.exists(file) || from == 0) {
      return;
    }
    long[] first = null;
    long[] last = null;
    for (String line : Files.readAllLines(file)) {
      String[] f = line.trim().split("\\s+");
      if (f.length != 6 && f.length != 9) {
        continue;
      }
      long[] v = new long[9];
      for (int i = 0; i < f.length; i++) {
        v[i] = Long.parseLong(f[i]);
      }
      if (v[0] >= from && v[0] <= to) {
        if (first == null) {
          first = v;
        }
        last = v;
      }
    }
    if (first == null || last == first || last[1] == first[1]) {
      return;
    }
    double box = last[1] - first[1];
    String[] names = {"idle", "service", "Cassandra node", "load generator"};
    for (int i = 0; i < names.length; i++) {
      line(
          "CPU share of the box during the load: " + names[i],
          String.format("%.0f%%", 100 * (last[i + 2] - first[i + 2]) / box));
    }
    double seconds = (last[0] - first[0]) / 1000.0;
    for (int i = 1; i < names.length && last[i + 5] > 0; i++) {
      line(
          "waiting for a core during the load (ms/s, all threads): " + names[i],
          String.format("%.0f", (last[i + 5] - first[i + 5]) / seconds));
    }
  }

  /**
   * The subscribers' lag, held to the line: every epoch seen (no gap, checked apart), its
   * p99 lag from clearing within the limit. The messages later than the limit are reported as a
   * share of all (a single slow epoch makes 1,000 of them), not failed on one by one.
   */
  private void epochLag(Properties sim) {
    if (sim.getProperty("lagP99Millis") == null) {
      return;
    }
    long p99 = Long.parseLong(sim.getProperty("lagP99Millis"));
    long limit = Long.parseLong(sim.getProperty("lagLimitMillis"));
    long late = Long.parseLong(sim.getProperty("lateMessages", "0"));
    long all = Long.parseLong(sim.getProperty("epochMessages", "0"));
    if (all > 0) {
      line(
          "epoch messages later than " + limit + " ms",
          String.format("%d (%.3f%%)", late, 100.0 * late / all));
    }
    if (p99 > limit) {
      failures.add(
          "epoch messages reached subscribers at p99 "
              + p99
              + " ms after clearing, over the limit of "
              + limit
              + " ms");
    }
  }

  private void check(Properties p, String key, String what) {
    String v = p.getProperty(key);
    if (v != null) {
      if (Long.parseLong(v) != 0) {
        failures.add(v + " " + what);
      }
    }
  }

  private Properties load(String name) throws IOException {
    Properties p = new Properties();
    Path file = out.resolve(name + ".properties");
    if (Files.exists(file)) {
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      }
    }
    return p;
  }

  private static double number(Properties p, String key) {
    String v = p.getProperty(key);
    return v == null ? 0 : Double.parseDouble(v);
  }

  private static String fmt(double v) {
    return String.format("%,.0f", v);
  }

  private static void line(String key, String value) {
    System.out.printf("  %-52s %s%n", key, value);
  }
}
