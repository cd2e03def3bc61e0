package io.surplus.load;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Completions per wall-clock second, so a run reports the median of its steady seconds rather than
 * a mean diluted by the ramp and the drain.
 */
public final class Throughput {

  private final ConcurrentHashMap<Long, LongAdder> perSecond = new ConcurrentHashMap<>();
  private final LongAdder total = new LongAdder();

  public void add(long n) {
    perSecond.computeIfAbsent(System.currentTimeMillis() / 1000, s -> new LongAdder()).add(n);
    total.add(n);
  }

  public long total() {
    return total.sum();
  }

  /** Completions in the seconds from the one holding {@code epochMillis} on. */
  public long since(long epochMillis) {
    long from = epochMillis / 1000;
    return perSecond.entrySet().stream()
        .filter(e -> e.getKey() >= from)
        .mapToLong(e -> e.getValue().sum())
        .sum();
  }

  /**
   * The median count over the seconds from {@code skipFirst} seconds after the first completion to
   * {@code skipLast} seconds before the last one; 0 when nothing is left.
   */
  public long median(int skipFirst, int skipLast) {
    if (perSecond.isEmpty()) {
      return 0;
    }
    long first = perSecond.keySet().stream().mapToLong(Long::longValue).min().orElseThrow();
    long last = perSecond.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
    long from = first + skipFirst;
    long to = last - skipLast;
    if (to < from) {
      from = first;
      to = last;
    }
    long[] counts = new long[(int) (to - from + 1)];
    for (long s = from; s <= to; s++) {
      LongAdder a = perSecond.get(s);
      counts[(int) (s - from)] = a == null ? 0 : a.sum();
    }
    Arrays.sort(counts);
    return counts[counts.length / 2];
  }
}
