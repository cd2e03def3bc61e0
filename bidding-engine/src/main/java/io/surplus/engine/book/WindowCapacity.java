package io.surplus.engine.book;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.WindowSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One window's capacity: the nodes it still offers in each slot (after revocations) and the nodes
 * still free, in a {@link MinMaxTree} indexed by slot relative to the window's start, plus the
 * leases it carries. Keeps a copy of the free profile as it was when the current epoch first
 * touched it, so reasons can tell "outbid" from "never fitted".
 */
final class WindowCapacity {

  final WindowSpec spec;
  // copies of hot spec fields, read for every bid the window is checked against
  final long reserve;
  final int notice;
  final long regionBit;
  final int confidence;
  final int poolKey;
  final int start;
  int end;

  /** Offered nodes per slot, {@code [start, end)}; revocations lower it. */
  int[] cap;

  final MinMaxTree free;
  private MinMaxTree atEpochStart;
  private long copiedInEpoch = -1;

  /** Bumped whenever the free profile changes; stamps the run-length cache. */
  private int version;

  private long[] runStamp;
  private int[] runLength;
  private int[] runCount;
  private int[][] runBounds;

  /** Where this window sits in the epoch's {@link WindowIndex}es: all windows, gained ones. */
  final int[] position = {-1, -1};

  /** The repair pass's fills on this window in epoch {@link #fillsEpoch} (their indices). */
  int[] fills = new int[4];

  int fillCount;
  long fillsEpoch = -1;

  /** Leases not yet ended or cut, in allocation order. */
  final List<Lease> leases = new ArrayList<>();

  WindowCapacity(WindowSpec spec) {
    this.spec = spec;
    this.reserve = spec.reservePrice();
    this.notice = spec.noticeSeconds();
    this.regionBit = 1L << spec.region();
    this.confidence = spec.confidencePpm();
    this.poolKey = spec.poolKey();
    this.start = spec.startSlot();
    this.end = spec.endSlot();
    this.cap = new int[end - start];
    Arrays.fill(cap, spec.nodes());
    this.free = new MinMaxTree(cap, cap.length);
  }

  /**
   * A deep copy of {@code o} between epochs: offered and free nodes and leases. Caches are not
   * copied (they are rebuilt on use), nor the profile kept for an epoch's reasons, which only the
   * epoch in progress reads.
   */
  WindowCapacity(WindowCapacity o) {
    this.spec = o.spec;
    this.reserve = o.reserve;
    this.notice = o.notice;
    this.regionBit = o.regionBit;
    this.confidence = o.confidence;
    this.poolKey = o.poolKey;
    this.start = o.start;
    this.end = o.end;
    this.cap = o.cap.clone();
    this.free = o.free.copy();
    this.leases.addAll(o.leases);
  }

  /**
   * Makes this window, a copy of {@code o} from an earlier epoch (the same spec), equal to a fresh
   * {@link #WindowCapacity(WindowCapacity) copy} of {@code o} again, reusing its arrays: offered
   * and free nodes and leases copied, the epoch's profile and the run caches made stale, the repair
   * pass's fills and the index positions forgotten.
   */
  void copyFrom(WindowCapacity o) {
    this.end = o.end;
    if (cap.length == o.cap.length) {
      System.arraycopy(o.cap, 0, cap, 0, cap.length);
    } else {
      cap = o.cap.clone();
    }
    free.copyFrom(o.free);
    leases.clear();
    leases.addAll(o.leases);
    copiedInEpoch = -1;
    version++;
    position[0] = -1;
    position[1] = -1;
    fillCount = 0;
    fillsEpoch = -1;
  }

  long id() {
    return spec.id();
  }

  int span() {
    return end - start;
  }

  /** The free profile as the epoch {@code epoch} found it. */
  MinMaxTree freeAtEpochStart(long epoch) {
    return copiedInEpoch == epoch ? atEpochStart : free;
  }

  /** Takes {@code nodes} from {@code [from, to)} (absolute slots) in epoch {@code epoch}. */
  void take(long epoch, int from, int to, int nodes) {
    rememberKeepingRuns(epoch);
    int before = free.max(from - start, to - start);
    free.add(from - start, to - start, -nodes);
    int after = free.min(from - start, to - start);
    // only the runs of a node count the take crossed in some slot can change
    if (runStamp != null) {
      for (int n = Math.max(after + 1, 0); n <= before && n < runStamp.length; n++) {
        runStamp[n] = 0;
      }
    }
  }

  /** Returns {@code nodes} to {@code [from, to)} (absolute slots). */
  void give(long epoch, int from, int to, int nodes) {
    remember(epoch);
    free.add(from - start, to - start, nodes);
  }

  /**
   * The longest run of slots from {@code fromSlot} on in which at least {@code n} nodes are free,
   * cached per node count until the profile changes: a bid needing {@code d} slots skips a window
   * whose longest run is shorter, whatever its own time range.
   */
  int longestRun(int fromSlot, int n) {
    int i = runs(fromSlot, n);
    return i < 0 ? computeLongestRun(fromSlot, n) : runLength[i];
  }

  /**
   * The earliest start in {@code [from, last]} (absolute slots, {@code from >= fromSlot}) at which
   * {@code n} nodes are free for {@code d} slots, or -1; the same answer as {@link
   * MinMaxTree#earliestRun} on the free profile, read from the cached runs of at least {@code n}
   * free nodes.
   */
  int earliestRun(int fromSlot, int from, int last, int d, int n) {
    int i = runs(fromSlot, n);
    if (i < 0) {
      int rel = free.earliestRun(from - start, last - start, d, n);
      return rel < 0 ? -1 : rel + start;
    }
    final int[] r = runBounds[i];
    final int count = runCount[i];
    // the first run that ends late enough to hold d slots from 'from'
    int lo = 0;
    int hi = count;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (r[2 * mid + 1] - from < d) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    for (int k = lo; k < count; k++) {
      int p = Math.max(r[2 * k], from);
      if (p > last) {
        return -1;
      }
      if (r[2 * k + 1] - p >= d) {
        return p;
      }
    }
    return -1;
  }

  /**
   * The cache entry of the maximal runs (absolute [from, to) pairs) in which at least {@code n}
   * nodes are free from {@code fromSlot} on, computed when the profile or {@code fromSlot} changed;
   * -1 when {@code n} is past the cached node counts.
   */
  private int runs(int fromSlot, int n) {
    if (n > BidSpec.MAX_NODES) {
      return -1;
    }
    if (runStamp == null) {
      int size = Math.min(spec.nodes(), BidSpec.MAX_NODES) + 1;
      runStamp = new long[size];
      runLength = new int[size];
      runCount = new int[size];
      runBounds = new int[size][];
    }
    if (n >= runStamp.length) {
      return -1;
    }
    long stamp = ((long) fromSlot << 32) | (version & 0xffffffffL);
    if (runStamp[n] != stamp + 1) {
      computeRuns(fromSlot, n);
      runStamp[n] = stamp + 1;
    }
    return n;
  }

  private void computeRuns(int fromSlot, int n) {
    int[] r = runBounds[n];
    if (r == null) {
      r = new int[16];
    }
    int count = 0;
    int best = 0;
    int p = free.firstAtLeast(Math.max(fromSlot - start, 0), n);
    while (p >= 0) {
      int q = free.firstBelow(p, n);
      best = Math.max(best, q - p);
      if (2 * count + 2 > r.length) {
        r = Arrays.copyOf(r, r.length * 2);
      }
      r[2 * count] = p + start;
      r[2 * count + 1] = q + start;
      count++;
      p = q < free.length() ? free.firstAtLeast(q, n) : -1;
    }
    runBounds[n] = r;
    runCount[n] = count;
    runLength[n] = best;
  }

  private int computeLongestRun(int fromSlot, int n) {
    int best = 0;
    int p = free.firstAtLeast(Math.max(fromSlot - start, 0), n);
    while (p >= 0) {
      int q = free.firstBelow(p, n);
      best = Math.max(best, q - p);
      p = q < free.length() ? free.firstAtLeast(q, n) : -1;
    }
    return best;
  }

  private void remember(long epoch) {
    version++;
    rememberKeepingRuns(epoch);
  }

  private void rememberKeepingRuns(long epoch) {
    if (copiedInEpoch != epoch) {
      if (atEpochStart == null) {
        atEpochStart = free.copy();
      } else {
        atEpochStart.copyFrom(free);
      }
      copiedInEpoch = epoch;
    }
  }

  /** Lowers the offered nodes to at most {@code nodes} from {@code fromSlot} on. */
  void lowerCapacity(long epoch, int fromSlot, int nodes) {
    remember(epoch);
    for (int t = Math.max(fromSlot, start); t < end; t++) {
      int i = t - start;
      if (cap[i] > nodes) {
        int delta = cap[i] - nodes;
        cap[i] = nodes;
        free.add(i, i + 1, -delta);
      }
    }
  }

  /** Moves the end later, offering the window's nodes in the new slots. */
  void extendTo(int newEnd) {
    int[] values = new int[newEnd - start];
    for (int i = 0; i < cap.length; i++) {
      values[i] = free.get(i);
    }
    Arrays.fill(values, cap.length, values.length, spec.nodes());
    cap = Arrays.copyOf(cap, newEnd - start);
    Arrays.fill(cap, end - start, cap.length, spec.nodes());
    end = newEnd;
    free.rebuild(values, values.length);
    copiedInEpoch = -1;
    version++;
  }

  /** Recomputes free from capacity minus leases (used by restore). */
  void recomputeFree() {
    int[] values = cap.clone();
    for (Lease l : leases) {
      for (int t = l.startSlot(); t < l.endSlot(); t++) {
        values[t - start] -= l.nodes();
      }
    }
    free.rebuild(values, values.length);
    copiedInEpoch = -1;
    version++;
  }
}
