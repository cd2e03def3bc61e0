package io.surplus.engine.book;

/**
 * A segment tree over an {@code int} array keeping the minimum and maximum of every aligned range,
 * so that "first index at or after i whose value is at least n" and "first index at or after i
 * whose value is below n" take {@code O(log size)}. Leaves past the logical length hold values that
 * never satisfy a search.
 */
final class MinMaxTree {

  private static final int PAD_MIN = Integer.MIN_VALUE;
  private static final int PAD_MAX = Integer.MIN_VALUE;

  private int length;
  private int size;
  private int[] min;
  private int[] max;

  MinMaxTree(int[] values, int length) {
    rebuild(values, length);
  }

  private MinMaxTree() {}

  /** Replaces the contents with {@code values[0..length)}. */
  void rebuild(int[] values, int length) {
    this.length = length;
    int s = Integer.highestOneBit(Math.max(1, length - 1)) << 1;
    if (s < length) {
      s <<= 1;
    }
    if (min == null || min.length != 2 * s) {
      min = new int[2 * s];
      max = new int[2 * s];
    }
    this.size = s;
    for (int i = 0; i < s; i++) {
      int v = i < length ? values[i] : PAD_MIN;
      min[s + i] = v;
      max[s + i] = i < length ? values[i] : PAD_MAX;
    }
    for (int i = s - 1; i >= 1; i--) {
      min[i] = Math.min(min[2 * i], min[2 * i + 1]);
      max[i] = Math.max(max[2 * i], max[2 * i + 1]);
    }
  }

  MinMaxTree copy() {
    MinMaxTree t = new MinMaxTree();
    t.length = length;
    t.size = size;
    t.min = min.clone();
    t.max = max.clone();
    return t;
  }

  void copyFrom(MinMaxTree other) {
    if (min.length != other.min.length) {
      min = other.min.clone();
      max = other.max.clone();
    } else {
      System.arraycopy(other.min, 0, min, 0, min.length);
      System.arraycopy(other.max, 0, max, 0, max.length);
    }
    length = other.length;
    size = other.size;
  }

  int length() {
    return length;
  }

  int get(int i) {
    return min[size + i];
  }

  int maxAll() {
    return max[1];
  }

  /** Adds {@code delta} to every value in {@code [from, to)}. */
  void add(int from, int to, int delta) {
    final int s = size;
    for (int i = from; i < to; i++) {
      min[s + i] += delta;
      max[s + i] += delta;
    }
    int lo = (s + from) >> 1;
    int hi = (s + to - 1) >> 1;
    while (lo >= 1) {
      for (int i = lo; i <= hi; i++) {
        min[i] = Math.min(min[2 * i], min[2 * i + 1]);
        max[i] = Math.max(max[2 * i], max[2 * i + 1]);
      }
      lo >>= 1;
      hi >>= 1;
    }
  }

  /** Minimum over {@code [from, to)}; {@code Integer.MAX_VALUE} when empty. */
  int min(int from, int to) {
    int r = Integer.MAX_VALUE;
    for (int l = from + size, h = to + size; l < h; l >>= 1, h >>= 1) {
      if ((l & 1) == 1) {
        r = Math.min(r, min[l++]);
      }
      if ((h & 1) == 1) {
        r = Math.min(r, min[--h]);
      }
    }
    return r;
  }

  /** Maximum over {@code [from, to)}; {@code Integer.MIN_VALUE} when empty. */
  int max(int from, int to) {
    int r = Integer.MIN_VALUE;
    for (int l = from + size, h = to + size; l < h; l >>= 1, h >>= 1) {
      if ((l & 1) == 1) {
        r = Math.max(r, max[l++]);
      }
      if ((h & 1) == 1) {
        r = Math.max(r, max[--h]);
      }
    }
    return r;
  }

  /** The first index {@code >= from} whose value is {@code >= n}, or {@code -1}. */
  int firstAtLeast(int from, int n) {
    if (from >= length) {
      return -1;
    }
    int i = from + size;
    if (max[i] >= n) {
      return from;
    }
    // climb until a right sibling's subtree holds a match
    while (true) {
      if ((i & 1) == 0 && max[i + 1] >= n) {
        i = i + 1;
        break;
      }
      i >>= 1;
      if (i <= 1) {
        return -1;
      }
    }
    while (i < size) {
      i = max[2 * i] >= n ? 2 * i : 2 * i + 1;
    }
    int idx = i - size;
    return idx < length ? idx : -1;
  }

  /** The first index {@code >= from} whose value is {@code < n}, or {@code length}. */
  int firstBelow(int from, int n) {
    if (from >= length) {
      return length;
    }
    int i = from + size;
    if (min[i] < n) {
      return from;
    }
    while (true) {
      if ((i & 1) == 0 && min[i + 1] < n) {
        i = i + 1;
        break;
      }
      i >>= 1;
      if (i <= 1) {
        return length;
      }
    }
    while (i < size) {
      i = min[2 * i] < n ? 2 * i : 2 * i + 1;
    }
    return Math.min(i - size, length);
  }

  /**
   * The earliest start {@code s} in {@code [from, lastStart]} such that every value in {@code [s, s
   * + d)} is {@code >= n}, or {@code -1}.
   */
  int earliestRun(int from, int lastStart, int d, int n) {
    int s = from;
    while (s <= lastStart) {
      int p = firstAtLeast(s, n);
      if (p < 0 || p > lastStart) {
        return -1;
      }
      int q = firstBelow(p, n);
      if (q - p >= d) {
        return p;
      }
      s = q + 1;
    }
    return -1;
  }
}
