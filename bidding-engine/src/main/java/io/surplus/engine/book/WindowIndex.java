package io.surplus.engine.book;

/**
 * A set of windows searched in one epoch, ordered by (start, id), with the fields every bid's
 * search reads copied into primitive arrays, so the scan over windows that cannot hold a bid
 * touches no window object. Free capacity only shrinks during an epoch; {@link #refresh} after each
 * take keeps {@link #maxFree} exact.
 */
final class WindowIndex {

  WindowCapacity[] windows = new WindowCapacity[0];
  int[] start = new int[0];
  int[] end = new int[0];
  int[] notice = new int[0];
  long[] reserve = new long[0];
  long[] regionBit = new long[0];
  int[] confidence = new int[0];
  int[] poolKey = new int[0];

  /** The most nodes free in any slot of the window. */
  int[] maxFree = new int[0];

  int count;

  /** Holds {@code src[0..n)}, in that order; {@code slot} names this index in the windows. */
  void fill(WindowCapacity[] src, int n, int slot) {
    if (windows.length < n) {
      int c = Math.max(n, 2 * windows.length);
      windows = new WindowCapacity[c];
      start = new int[c];
      end = new int[c];
      notice = new int[c];
      reserve = new long[c];
      regionBit = new long[c];
      confidence = new int[c];
      poolKey = new int[c];
      maxFree = new int[c];
    }
    for (int i = 0; i < n; i++) {
      WindowCapacity w = src[i];
      windows[i] = w;
      start[i] = w.start;
      end[i] = w.end;
      notice[i] = w.notice;
      reserve[i] = w.reserve;
      regionBit[i] = w.regionBit;
      confidence[i] = w.confidence;
      poolKey[i] = w.poolKey;
      maxFree[i] = w.free.maxAll();
      w.position[slot] = i;
    }
    for (int i = n; i < count; i++) {
      windows[i] = null;
    }
    count = n;
  }

  /** Re-reads the free maximum of window {@code w} if it is in this index at {@code position}. */
  void refresh(WindowCapacity w, int position) {
    if (position >= 0 && position < count && windows[position] == w) {
      maxFree[position] = w.free.maxAll();
    }
  }
}
