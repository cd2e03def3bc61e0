package io.surplus.engine.book;

import java.util.Arrays;

/**
 * Within one epoch and one set of windows searched: for each node count and start slot, the
 * shortest duration known to fit in no window, learned from bids that failed. Capacity only shrinks
 * during an epoch and bids arrive in falling price order (so with ever fewer eligible windows), so
 * what failed stays failed for every later bid that may use no more windows than the one that
 * taught it; and failure is monotone in the shape: if {@code n} nodes for {@code d} slots fit
 * nowhere from a start, neither do more nodes or more slots. A later bid whose whole start range is
 * known infeasible for its shape (or a smaller one) fails without visiting any window.
 *
 * <p>Rows are kept for node counts up to {@link #MAX_TRACKED_NODES}; a larger bid is covered by
 * what that row knows and teaches nothing. Each row already holds what the rows of fewer nodes
 * learned, so a query reads one row.
 */
final class InfeasibleStarts {

  /** Node counts above this share the row of this count (dominance keeps that sound). */
  static final int MAX_TRACKED_NODES = 64;

  private static final int UNKNOWN = Integer.MAX_VALUE;

  /** {@code rows[n][t]}: shortest duration known infeasible for n nodes at start base + t. */
  private final int[][] rows = new int[MAX_TRACKED_NODES + 1][];

  private static final int BLOCK_SHIFT = 5;

  /** {@code blockMax[n][b]}: the largest value of {@code rows[n]} in block b of 32 starts. */
  private final int[][] blockMax = new int[MAX_TRACKED_NODES + 1][];

  /** Node counts whose row is in use this epoch, ascending. */
  private final int[] used = new int[MAX_TRACKED_NODES + 1];

  private final boolean[] inUse = new boolean[MAX_TRACKED_NODES + 1];

  private int usedCount;
  private int base;
  private int span;

  /** Forgets everything; starts are tracked in {@code [base, base + span)}. */
  void reset(int base, int span) {
    for (int i = 0; i < usedCount; i++) {
      int[] row = rows[used[i]];
      inUse[used[i]] = false;
      if (row.length < span) {
        rows[used[i]] = null;
        blockMax[used[i]] = null;
      } else {
        Arrays.fill(row, 0, span, UNKNOWN);
        Arrays.fill(blockMax[used[i]], UNKNOWN);
      }
    }
    usedCount = 0;
    this.base = base;
    this.span = span;
  }

  /** Whether every start in {@code [first, last]} is known infeasible for this shape. */
  boolean covers(int nodes, int duration, int first, int last) {
    return firstUnknown(nodes, duration, first, last) > last;
  }

  /**
   * The first start in {@code [first, last]} not known infeasible for this shape, or {@code last +
   * 1} when all are.
   */
  int firstUnknown(int nodes, int duration, int first, int last) {
    int n = Math.min(nodes, MAX_TRACKED_NODES);
    int from = first - base;
    int to = last - base; // inclusive
    if (from < 0 || to >= span || usedCount == 0 || used[0] > n) {
      return first;
    }
    int m = inUse(n) ? n : below(n);
    int[] row = rows[m];
    int[] blocks = blockMax[m];
    int t = from;
    while (t <= to) {
      if ((t & 31) == 0 && t + 31 <= to && blocks[t >>> BLOCK_SHIFT] <= duration) {
        t += 32; // the whole block is known infeasible
        continue;
      }
      if (row[t] > duration) {
        return t + base;
      }
      t++;
    }
    return last + 1;
  }

  /** Records that no start in {@code [first, last]} is feasible for this shape. */
  void add(int nodes, int duration, int first, int last) {
    if (nodes > MAX_TRACKED_NODES) {
      return;
    }
    int from = Math.max(first - base, 0);
    int to = Math.min(last - base, span - 1);
    if (from > to) {
      return;
    }
    use(nodes);
    for (int i = 0; i < usedCount; i++) {
      if (used[i] < nodes) {
        continue;
      }
      int[] row = rows[used[i]];
      int[] blocks = blockMax[used[i]];
      boolean changed = false;
      for (int t = from; t <= to; t++) {
        if (row[t] > duration) {
          row[t] = duration;
          changed = true;
        }
      }
      if (!changed) {
        break; // rows of more nodes never hold more than this one: they knew it already
      }
      for (int b = from >>> BLOCK_SHIFT; b <= to >>> BLOCK_SHIFT; b++) {
        int lo = b << BLOCK_SHIFT;
        int hi = Math.min(lo + 31, span - 1);
        if (lo >= from && hi <= to) {
          blocks[b] = Math.min(blocks[b], duration);
        } else {
          int max = 0;
          for (int t = lo; t <= hi; t++) {
            max = Math.max(max, row[t]);
          }
          blocks[b] = max;
        }
      }
    }
  }

  private boolean inUse(int n) {
    return inUse[n];
  }

  /** The largest node count in use that is at most {@code n}; some exists. */
  private int below(int n) {
    int best = used[0];
    for (int i = 1; i < usedCount && used[i] <= n; i++) {
      best = used[i];
    }
    return best;
  }

  /** Starts a row for {@code n}, holding what the nearest row of fewer nodes knows. */
  private void use(int n) {
    if (inUse(n)) {
      return;
    }
    int[] row = rows[n];
    int blocks = (span + 31) >>> BLOCK_SHIFT;
    if (row == null) {
      row = new int[span];
      rows[n] = row;
      blockMax[n] = new int[blocks];
    }
    if (usedCount > 0 && used[0] <= n) {
      int m = below(n);
      System.arraycopy(rows[m], 0, row, 0, span);
      System.arraycopy(blockMax[m], 0, blockMax[n], 0, blocks);
    } else {
      Arrays.fill(row, 0, span, UNKNOWN);
      Arrays.fill(blockMax[n], UNKNOWN);
    }
    inUse[n] = true;
    int i = usedCount++;
    while (i > 0 && used[i - 1] > n) {
      used[i] = used[i - 1];
      i--;
    }
    used[i] = n;
  }
}
