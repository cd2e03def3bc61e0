package io.surplus.engine.book;

import org.agrona.collections.Long2ObjectHashMap;

/**
 * Within one epoch: the start slots at which no window can hold {@code n} nodes for {@code d}
 * slots, learned from bids that failed. Capacity only shrinks during an epoch and bids arrive in
 * falling price order (so with ever fewer eligible windows), so a start found infeasible stays
 * infeasible for every later bid of the same shape; a later bid whose whole start range is known
 * infeasible fails without visiting any window. Only bids open to every window (any region, no
 * notice demand) teach it.
 */
final class InfeasibleStarts {

  private final Long2ObjectHashMap<long[]> byShape = new Long2ObjectHashMap<>();
  private int base;
  private int words;

  /** Forgets everything; starts are tracked in {@code [base, base + span)}. */
  void reset(int base, int span) {
    byShape.clear();
    this.base = base;
    this.words = (span + 63) >>> 6;
  }

  private static long key(int nodes, int duration) {
    return ((long) nodes << 32) | duration;
  }

  /** Whether every start in {@code [first, last]} is known infeasible for this shape. */
  boolean covers(int nodes, int duration, int first, int last) {
    long[] bits = byShape.get(key(nodes, duration));
    if (bits == null) {
      return false;
    }
    int from = first - base;
    int to = last - base; // inclusive
    if (from < 0 || to >= words * 64) {
      return false;
    }
    for (int w = from >>> 6; w <= to >>> 6; w++) {
      long mask = mask(w, from, to);
      if ((bits[w] & mask) != mask) {
        return false;
      }
    }
    return true;
  }

  /** Records that no start in {@code [first, last]} is feasible for this shape. */
  void add(int nodes, int duration, int first, int last) {
    int from = Math.max(first - base, 0);
    int to = Math.min(last - base, words * 64 - 1);
    if (from > to) {
      return;
    }
    long k = key(nodes, duration);
    long[] bits = byShape.get(k);
    if (bits == null) {
      bits = new long[words];
      byShape.put(k, bits);
    }
    for (int w = from >>> 6; w <= to >>> 6; w++) {
      bits[w] |= mask(w, from, to);
    }
  }

  /** The bits of word {@code w} that lie in {@code [from, to]}. */
  private static long mask(int w, int from, int to) {
    long mask = -1L;
    if (w == from >>> 6) {
      mask &= -1L << (from & 63);
    }
    if (w == to >>> 6) {
      mask &= -1L >>> (63 - (to & 63));
    }
    return mask;
  }
}
