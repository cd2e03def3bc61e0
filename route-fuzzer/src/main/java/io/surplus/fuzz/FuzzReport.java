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

  /**
   * One class of failure: its kind, route, the input that causes it (a parameter, header or field,
   * or "valid"), the status; a count, the input classes that showed it, and one reproduction,
   * preferably of a request that changed that input alone.
   */
  public record Violation(
      String kind,
      String route,
      String inputClass,
      int status,
      String detail,
      String repro,
      long count,
      java.util.Set<String> examples,
      boolean single) {

    Violation plus(String example, String detail, String repro, boolean single) {
      java.util.Set<String> ex = new java.util.TreeSet<>(examples);
      if (ex.size() < 8) {
        ex.add(example);
      }
      boolean better = single && !this.single;
      return new Violation(
          kind,
          route,
          inputClass,
          status,
          better ? detail : this.detail,
          better ? repro : this.repro,
          count + 1,
          ex,
          this.single || single);
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
          + (examples.isEmpty() ? "" : "\n    inputs: " + String.join(", ", examples))
          + "\n    "
          + detail
          + (repro == null ? "" : "\n    " + repro);
    }
  }

  private final long seed;
  private final Map<String, Map<Integer, Long>> table = new TreeMap<>();
  private final Map<String, Long> skipped = new TreeMap<>();
  private final Map<String, Long> nanosByRoute = new TreeMap<>();
  private final Map<String, Long> maxNanosByRoute = new TreeMap<>();
  private final Map<String, Violation> violations = new LinkedHashMap<>();
  private long sent;
  private Duration elapsed = Duration.ZERO;
  private final List<String> notes = new ArrayList<>();

  FuzzReport(long seed) {
    this.seed = seed;
  }

  synchronized void count(String route, int status, long nanos) {
    table.computeIfAbsent(route, k -> new TreeMap<>()).merge(status, 1L, Long::sum);
    nanosByRoute.merge(route, nanos, Long::sum);
    maxNanosByRoute.merge(route, nanos, Math::max);
    sent++;
  }

  synchronized void skip(String route) {
    skipped.merge(route, 1L, Long::sum);
  }

  /** Counts a violation; true when it is the first of its class. */
  synchronized boolean violation(
      String kind,
      String route,
      String cause,
      int status,
      String example,
      boolean single,
      String detail,
      String repro) {
    String key = kind + "|" + route + "|" + cause + "|" + status;
    Violation v = violations.get(key);
    if (v == null) {
      violations.put(
          key,
          new Violation(
              kind,
              route,
              cause,
              status,
              detail,
              repro,
              1,
              example == null ? java.util.Set.of() : java.util.Set.of(example),
              single));
      return true;
    }
    violations.put(key, v.plus(example == null ? "" : example, detail, repro, single));
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
    out.printf(
        "%-38s %8s %7s %7s  %s%n",
        "route", "requests", "mean ms", "max ms", "statuses (0: no answer)");
    for (Map.Entry<String, Map<Integer, Long>> e : table.entrySet()) {
      long n = e.getValue().values().stream().mapToLong(Long::longValue).sum();
      StringBuilder s = new StringBuilder();
      e.getValue().forEach((status, c) -> s.append(status).append(':').append(c).append(' '));
      Long skip = skipped.get(e.getKey());
      if (skip != null) {
        s.append(" (skipped after hangs: ").append(skip).append(')');
      }
      out.printf(
          "%-38s %,8d %7.1f %7d  %s%n",
          e.getKey(),
          n,
          nanosByRoute.getOrDefault(e.getKey(), 0L) / 1e6 / Math.max(1, n),
          maxNanosByRoute.getOrDefault(e.getKey(), 0L) / 1_000_000,
          s.toString().strip());
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
