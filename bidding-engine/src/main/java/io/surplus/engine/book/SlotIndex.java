package io.surplus.engine.book;

import java.util.Arrays;

/**
 * Within one epoch, for every slot and every node count up to a bound: the set of windows (bits by
 * their position in the epoch's {@link WindowIndex} of all windows) with at least that many nodes
 * free in that slot. The windows that hold {@code n} nodes for {@code d} slots from start {@code s}
 * are the intersection of {@code d} such sets, so the earliest start of a bid and every window tied
 * at it come from a few word operations per start tried instead of a visit per window. Kept exact
 * by {@link #beforeTake} at every lease the epoch makes; rebuilt each epoch that uses it.
 */
final class SlotIndex {

  /** Node counts indexed at most; larger bids search window by window. */
  static final int MAX_NODES = 64;

  private int words;
  private int nodes;
  private int base;
  private int span;

  /** {@code free[((n - 1) * span + t) * words + k]}: windows with >= n free in slot base + t. */
  private long[] free = new long[0];

  /** {@link #free} as the epoch found it, before any lease it made. */
  private long[] initial = new long[0];

  /** {@code endsAfter[t * words + k]}: windows ending at or after slot base + t. */
  private long[] endsAfter = new long[0];

  /** Windows by reserve ascending, and the masks of the first i of them. */
  private long[] reserveSorted = new long[0];

  private long[] reservePrefix = new long[0];

  /** Windows by notice descending, and the masks of the first i of them. */
  private int[] noticeSorted = new int[0];

  private long[] noticePrefix = new long[0];

  /** Windows of each region. */
  private long[] regionMask = new long[0];

  private int[] starts = new int[0];
  private int count;

  /** Scratch: the bid's eligible windows and the windows feasible at the start found. */
  private long[] eligible = new long[0];

  final long[] found() {
    return hits;
  }

  private long[] hits = new long[0];

  int nodes() {
    return nodes;
  }

  /** Words of {@link #found()} in use. */
  int words() {
    return words;
  }

  /** Indexes the windows of {@code ix} from slot {@code now} for node counts up to {@code n}. */
  void build(WindowIndex ix, int now, int n) {
    final int c = ix.count;
    count = c;
    words = Math.max(1, (c + 63) >>> 6);
    nodes = Math.max(1, Math.min(n, MAX_NODES));
    base = now;
    int maxEnd = now + 1;
    for (int i = 0; i < c; i++) {
      maxEnd = Math.max(maxEnd, ix.end[i]);
    }
    span = maxEnd - now + 1;
    free = ensure(free, nodes * span * words);
    Arrays.fill(free, 0, nodes * span * words, 0L);
    endsAfter = ensure(endsAfter, (span + 1) * words);
    Arrays.fill(endsAfter, 0, (span + 1) * words, 0L);
    starts = ix.start;
    for (int i = 0; i < c; i++) {
      WindowCapacity w = ix.windows[i];
      int word = i >>> 6;
      long bit = 1L << i;
      int from = Math.max(w.start, now);
      for (int t = from; t < w.end; t++) {
        int f = Math.min(w.free.get(t - w.start), nodes);
        int at = (t - now) * words + word;
        for (int m = 1; m <= f; m++) {
          free[(m - 1) * span * words + at] |= bit;
        }
      }
      for (int t = 0; t <= w.end - now && t <= span; t++) {
        endsAfter[t * words + word] |= bit;
      }
    }
    initial = ensure(initial, nodes * span * words);
    System.arraycopy(free, 0, initial, 0, nodes * span * words);
    // eligibility masks by reserve (ascending) and notice (descending)
    Integer[] order = new Integer[c];
    for (int i = 0; i < c; i++) {
      order[i] = i;
    }
    reserveSorted = new long[c];
    reservePrefix = new long[(c + 1) * words];
    Arrays.sort(order, (x, y) -> Long.compare(ix.reserve[x], ix.reserve[y]));
    for (int i = 0; i < c; i++) {
      reserveSorted[i] = ix.reserve[order[i]];
      System.arraycopy(reservePrefix, i * words, reservePrefix, (i + 1) * words, words);
      reservePrefix[(i + 1) * words + (order[i] >>> 6)] |= 1L << order[i];
    }
    noticeSorted = new int[c];
    noticePrefix = new long[(c + 1) * words];
    Arrays.sort(order, (x, y) -> Integer.compare(ix.notice[y], ix.notice[x]));
    for (int i = 0; i < c; i++) {
      noticeSorted[i] = ix.notice[order[i]];
      System.arraycopy(noticePrefix, i * words, noticePrefix, (i + 1) * words, words);
      noticePrefix[(i + 1) * words + (order[i] >>> 6)] |= 1L << order[i];
    }
    regionMask = new long[64 * words];
    for (int i = 0; i < c; i++) {
      int r = Long.numberOfTrailingZeros(ix.regionBit[i]);
      regionMask[r * words + (i >>> 6)] |= 1L << i;
    }
    eligible = ensure(eligible, words);
    hits = ensure(hits, words);
  }

  private static long[] ensure(long[] a, int n) {
    return a.length >= n ? a : new long[Math.max(n, a.length + (a.length >>> 1))];
  }

  /**
   * Clears the bits window {@code position} loses when {@code take} nodes go from {@code [from,
   * to)}; call before the window's free profile changes.
   */
  void beforeTake(WindowCapacity w, int position, int from, int to, int take) {
    final int word = position >>> 6;
    final long keep = ~(1L << position);
    for (int t = Math.max(from, base); t < to; t++) {
      int f = w.free.get(t - w.start);
      int hi = Math.min(f, nodes);
      int at = (t - base) * words + word;
      for (int m = Math.max(f - take, 0) + 1; m <= hi; m++) {
        free[(m - 1) * span * words + at] &= keep;
      }
    }
  }

  /**
   * The earliest start in {@code [from, until]} at which some window eligible for the bid holds
   * {@code n <= nodes()} nodes for {@code d} slots, leaving every window that does in {@link
   * #found()}; or -1 when none does in that range.
   */
  int earliest(long limit, int minNotice, long regions, int from, int until, int d, int n) {
    return earliest(free, limit, minNotice, regions, from, until, d, n);
  }

  /** {@link #earliest} in the free capacity as the epoch found it. */
  int earliestAtEpochStart(
      long limit, int minNotice, long regions, int from, int until, int d, int n) {
    return earliest(initial, limit, minNotice, regions, from, until, d, n);
  }

  private int earliest(
      long[] f, long limit, int minNotice, long regions, int from, int until, int d, int n) {
    final int k = words;
    final long[] e = eligible;
    // eligible by reserve, notice and region
    int r = upperBound(reserveSorted, count, limit);
    System.arraycopy(reservePrefix, r * k, e, 0, k);
    if (minNotice > 0) {
      int q = noticeCount(minNotice);
      for (int i = 0; i < k; i++) {
        e[i] &= noticePrefix[q * k + i];
      }
    }
    if (regions != -1L) {
      for (int i = 0; i < k; i++) {
        long m = 0;
        long rs = regions;
        while (rs != 0) {
          int bit = Long.numberOfTrailingZeros(rs);
          rs &= rs - 1;
          m |= regionMask[bit * k + i];
        }
        e[i] &= m;
      }
    }
    final long[] x = hits;
    final int row = (n - 1) * span * k;
    int started = 0; // windows starting at or before s: a prefix in start order
    for (int s = from; s <= until; s++) {
      while (started < count && starts[started] <= s) {
        started++;
      }
      int hiWord = (started + 63) >>> 6;
      if (hiWord == 0) {
        continue;
      }
      if (s + d - base >= span) {
        return -1; // no window lasts that long, nor for any later start
      }
      int endAt = (s + d - base) * k;
      int first = row + (s - base) * k;
      long any = 0;
      // word by word, so that a word whose windows all fail stops being read at once
      for (int i = 0; i < hiWord; i++) {
        long v = e[i] & endsAfter[endAt + i];
        if (i == hiWord - 1 && (started & 63) != 0) {
          v &= -1L >>> (64 - (started & 63));
        }
        for (int at = first + i, t = 0; t < d && v != 0; t++, at += k) {
          v &= f[at];
        }
        x[i] = v;
        any |= v;
      }
      if (any != 0) {
        for (int i = hiWord; i < k; i++) {
          x[i] = 0;
        }
        return s;
      }
    }
    return -1;
  }

  /**
   * Narrows {@link #found()} (windows holding {@code n} nodes for {@code d} slots from {@code
   * start}) to those with the fewest nodes left over that run, as long as the index can tell: it
   * returns the common least free count when it found it, or -1 when every window left holds more
   * than {@link #nodes()} throughout and the caller must compare them itself.
   */
  int narrowToBestFit(int start, int d, int n) {
    final int k = words;
    final long[] x = hits;
    final long[] f = free;
    final long[] y = eligible; // free again: the bid's eligibility is no longer needed
    for (int m = n + 1; m <= nodes; m++) {
      final int row = (m - 1) * span * k;
      System.arraycopy(x, 0, y, 0, k);
      for (int t = start; t < start + d; t++) {
        int at = row + (t - base) * k;
        for (int i = 0; i < k; i++) {
          y[i] &= f[at + i];
        }
      }
      long dropped = 0;
      for (int i = 0; i < k; i++) {
        dropped |= x[i] & ~y[i];
      }
      if (dropped != 0) {
        for (int i = 0; i < k; i++) {
          x[i] &= ~y[i];
        }
        return m - 1;
      }
    }
    return -1;
  }

  private int noticeCount(int minNotice) {
    int lo = 0;
    int hi = count;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (noticeSorted[mid] >= minNotice) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static int upperBound(long[] sorted, int n, long value) {
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] <= value) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
