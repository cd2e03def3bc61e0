package io.surplus.fuzz;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The outcome of a run: requests by route and status, and the violations, grouped so that one class
 * of failure (its kind, route, input class and status) is one entry with a count and the first
 * request that showed it as a curl command.
 */
public final class FuzzReport {

  /** One class of failure. */
  public record Violation(
      String kind,
      String route,
      String inputClass,
      int status,
      String detail,
      String repro,
      long count) {

    Violation plusOne() {
      return new Violation(kind, route, inputClass, status, detail, repro, count + 1);
    }

    @Override
    public String toString() {
      return kind
          + " | "
          + route
          + " | "
          + inputClass
          + " | "
          + (status == 0 ? "no answer" : Integer.toString(status))
          + " | x"
          + count
          + "\n    "
          + detail
          + (repro == null ? "" : "\n    " + repro);
    }
  }

  private final long seed;
  private final Map<String, Map<Integer, Long>> table = new TreeMap<>();
  private final Map<String, Long> skipped = new TreeMap<>();
  private final Map<String, Violation> violations = new LinkedHashMap<>();
  private long sent;
  private Duration elapsed = Duration.ZERO;
  private final List<String> notes = new ArrayList<>();

  FuzzReport(long seed) {
    this.seed = seed;
  }

  synchronized void count(String route, int status) {
    table.computeIfAbsent(route, k -> new TreeMap<>()).merge(status, 1L, Long::sum);
    sent++;
  }

  synchronized void skip(String route) {
    skipped.merge(route, 1L, Long::sum);
  }

  synchronized boolean violation(
      String kind, String route, String inputClass, int status, String detail, String repro) {
    String key = kind + "|" + route + "|" + inputClass + "|" + status;
    Violation v = violations.get(key);
    if (v == null) {
      violations.put(key, new Violation(kind, route, inputClass, status, detail, repro, 1));
      return true;
    }
    violations.put(key, v.plusOne());
    return false;
  }

  synchronized void note(String line) {
    notes.add(line);
  }

  synchronized void elapsed(Duration d) {
    elapsed = d;
  }

  public long seed() {
    return seed;
  }

  public synchronized long sent() {
    return sent;
  }

  public synchronized Duration elapsed() {
    return elapsed;
  }

  public synchronized List<Violation> violations() {
    return List.copyOf(violations.values());
  }

  /** The requests answered with {@code status} on {@code route}. */
  public synchronized long answered(String route, int status) {
    return table.getOrDefault(route, Map.of()).getOrDefault(status, 0L);
  }

  public synchronized void print(PrintStream out) {
    out.printf(
        "%nroute fuzzer: seed %d, %,d requests in %.1f s%n%n",
        seed, sent, elapsed.toMillis() / 1000.0);
    out.printf("%-46s %8s  %s%n", "route", "requests", "statuses (0: no answer)");
    for (Map.Entry<String, Map<Integer, Long>> e : table.entrySet()) {
      long n = e.getValue().values().stream().mapToLong(Long::longValue).sum();
      StringBuilder s = new StringBuilder();
      e.getValue().forEach((status, c) -> s.append(status).append(':').append(c).append(' '));
      Long skip = skipped.get(e.getKey());
      if (skip != null) {
        s.append(" (skipped after hangs: ").append(skip).append(')');
      }
      out.printf("%-46s %,8d  %s%n", e.getKey(), n, s.toString().strip());
    }
    for (String n : notes) {
      out.println(n);
    }
    List<Violation> vs = new ArrayList<>(violations.values());
    vs.sort(Comparator.comparing(Violation::kind).thenComparing(Violation::route));
    if (vs.isEmpty()) {
      out.printf("%nno violations (seed %d)%n", seed);
      return;
    }
    Map<String, Long> byKind = new TreeMap<>();
    vs.forEach(v -> byKind.merge(v.kind(), v.count(), Long::sum));
    out.printf("%n%d distinct violations (seed %d): %s%n", vs.size(), seed, byKind.toString());
    for (Violation v : vs) {
      out.println(v);
    }
  }
}
