package io.surplus.engine.book;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Price;
import io.surplus.engine.TimeInForce;
import java.util.Arrays;
import java.util.List;
import org.agrona.collections.Long2LongHashMap;

/**
 * Open bids as parallel primitive arrays indexed by a dense slot number, with a free list, an id
 * index, and the price-time priority order kept as a sorted array of packed keys plus a pending
 * list merged in at each epoch. About 170 bytes per open bid (more for one that avoids pools);
 * nothing allocates per operation once the arrays have grown.
 */
final class BidStore {

  static final int SEQ_BITS = 33;
  static final long SEQ_MASK = (1L << SEQ_BITS) - 1;

  static final byte FLAG_LIVE = 1;
  static final byte FLAG_IOC = 2;
  static final byte FLAG_REQUEUE = 4;

  /** Requeued after a cut, the bid also avoids the pool that cut it. */
  static final byte FLAG_REQUEUE_AVOIDS_POOL = 8;

  /** Marks a bid never searched, or whose range gained capacity since it last failed. */
  static final long NEVER_FAILED = -1;

  long[] id;
  long[] account;
  long[] limit;
  long[] expiresAt;
  long[] regions;

  /**
   * Bit {@code key & 63} set for each pool key the bid avoids: a quick test before {@link #avoid}.
   */
  long[] avoidMask;

  /** The pool keys the bid avoids, ascending, or null for none; never changed once stored. */
  int[][] avoid;

  /** The least window confidence, in ppm, the bid takes. */
  int[] minConf;

  /** Packed priority key of the live bid in this slot: (MAX - limit) << SEQ_BITS | seq. */
  long[] key;

  /** Epoch whose search this bid failed, or {@link #NEVER_FAILED}. */
  long[] failedEpoch;

  int[] nodes;
  int[] minNodes;
  int[] duration;
  int[] earliest;
  int[] latest;
  int[] minNotice;
  byte[] flags;
  byte[] reason;

  private int[] freeSlots;
  private int freeTop;
  private int highWater;
  private int live;

  final Long2LongHashMap index;

  /**
   * The book's demand per limit price, kept as bids come and go so that depth never passes over the
   * book: per price, the open bids ({@link #LEVEL_COUNT_SHIFT} bits up) and the nodes they ask for
   * (the low bits), in one value so that a change costs one probe; absent when none.
   */
  final Long2LongHashMap levels;

  /** Where a level's bid count starts in its packed value; the nodes take the bits below. */
  static final int LEVEL_COUNT_SHIFT = 40;

  static final long LEVEL_NODES_MASK = (1L << LEVEL_COUNT_SHIFT) - 1;

  /** Priority order as of the last merge: keys ascending, and the slot each key was placed in. */
  long[] orderKey;

  int[] orderSlot;
  int orderLength;

  /** Entries added since the last merge, in arrival order. */
  private long[] pendingKey;

  private int[] pendingSlot;
  private int pendingLength;

  BidStore(int initialCapacity) {
    int c = Math.max(16, initialCapacity);
    id = new long[c];
    account = new long[c];
    limit = new long[c];
    expiresAt = new long[c];
    regions = new long[c];
    avoidMask = new long[c];
    avoid = new int[c][];
    minConf = new int[c];
    key = new long[c];
    failedEpoch = new long[c];
    nodes = new int[c];
    minNodes = new int[c];
    duration = new int[c];
    earliest = new int[c];
    latest = new int[c];
    minNotice = new int[c];
    flags = new byte[c];
    reason = new byte[c];
    freeSlots = new int[c];
    index = new Long2LongHashMap(c, 0.65f, -1L);
    levels = new Long2LongHashMap(0L);
    orderKey = new long[c];
    orderSlot = new int[c];
    pendingKey = new long[64];
    pendingSlot = new int[64];
  }

  /**
   * A deep copy of {@code o}: the arrays copied up to the slots and entries in use (capacity is not
   * observable), the id index copied.
   */
  BidStore(BidStore o) {
    this(o.highWater);
    copyFrom(o);
  }

  /**
   * Makes this store a deep copy of {@code o} in place, reusing its arrays wherever they are long
   * enough: the slots and entries in use are copied, the slots this store used past {@code o}'s are
   * cleared (capacity is not observable), and the id index and the levels are refilled. A market
   * that clears a copy of its book every epoch copies into the book the last epoch replaced, so an
   * epoch allocates nothing here once the arrays have grown to the book.
   */
  void copyFrom(BidStore o) {
    final int n = o.highWater;
    final int dirty = highWater;
    id = into(id, o.id, n, dirty);
    account = into(account, o.account, n, dirty);
    limit = into(limit, o.limit, n, dirty);
    expiresAt = into(expiresAt, o.expiresAt, n, dirty);
    regions = into(regions, o.regions, n, dirty);
    avoidMask = into(avoidMask, o.avoidMask, n, dirty);
    minConf = into(minConf, o.minConf, n, dirty);
    key = into(key, o.key, n, dirty);
    failedEpoch = into(failedEpoch, o.failedEpoch, n, dirty);
    nodes = into(nodes, o.nodes, n, dirty);
    minNodes = into(minNodes, o.minNodes, n, dirty);
    duration = into(duration, o.duration, n, dirty);
    earliest = into(earliest, o.earliest, n, dirty);
    latest = into(latest, o.latest, n, dirty);
    minNotice = into(minNotice, o.minNotice, n, dirty);
    flags = into(flags, o.flags, n, dirty);
    reason = into(reason, o.reason, n, dirty);
    if (avoid.length < n) {
      avoid = new int[capacityFor(n)][];
    }
    System.arraycopy(o.avoid, 0, avoid, 0, n);
    if (dirty > n) {
      Arrays.fill(avoid, n, Math.min(dirty, avoid.length), null);
    }
    freeSlots = into(freeSlots, o.freeSlots, o.freeTop, 0);
    freeTop = o.freeTop;
    highWater = n;
    live = o.live;
    index.clear();
    index.putAll(o.index);
    levels.clear();
    levels.putAll(o.levels);
    orderKey = into(orderKey, o.orderKey, o.orderLength, 0);
    orderSlot = into(orderSlot, o.orderSlot, o.orderLength, 0);
    orderLength = o.orderLength;
    pendingKey = into(pendingKey, o.pendingKey, o.pendingLength, 0);
    pendingSlot = into(pendingSlot, o.pendingSlot, o.pendingLength, 0);
    pendingLength = o.pendingLength;
  }

  /** Room for {@code n} entries and an eighth more, so that a slowly growing book reuses it. */
  private static int capacityFor(int n) {
    return Math.max(16, n + (n >>> 3));
  }

  /**
   * {@code src[0..n)} in {@code dst} (a new array when {@code dst} is too short), with {@code
   * dst[n..dirty)}, what this store used past them, cleared.
   */
  private static long[] into(long[] dst, long[] src, int n, int dirty) {
    long[] d = dst.length >= n ? dst : new long[capacityFor(n)];
    System.arraycopy(src, 0, d, 0, n);
    if (dirty > n && d == dst) {
      Arrays.fill(d, n, Math.min(dirty, d.length), 0L);
    }
    return d;
  }

  private static int[] into(int[] dst, int[] src, int n, int dirty) {
    int[] d = dst.length >= n ? dst : new int[capacityFor(n)];
    System.arraycopy(src, 0, d, 0, n);
    if (dirty > n && d == dst) {
      Arrays.fill(d, n, Math.min(dirty, d.length), 0);
    }
    return d;
  }

  private static byte[] into(byte[] dst, byte[] src, int n, int dirty) {
    byte[] d = dst.length >= n ? dst : new byte[capacityFor(n)];
    System.arraycopy(src, 0, d, 0, n);
    if (dirty > n && d == dst) {
      Arrays.fill(d, n, Math.min(dirty, d.length), (byte) 0);
    }
    return d;
  }

  static long packKey(long limitPrice, long seq) {
    return ((Price.MAX_MICROS - limitPrice) << SEQ_BITS) | (seq & SEQ_MASK);
  }

  static long seqOf(long key) {
    return key & SEQ_MASK;
  }

  int live() {
    return live;
  }

  /** The slot holding bid {@code bidId}, or -1. */
  int slotOf(long bidId) {
    return (int) index.get(bidId);
  }

  boolean isLive(int slot) {
    return (flags[slot] & FLAG_LIVE) != 0;
  }

  /** Whether {@code slot} still holds the bid that {@code entryKey} was queued for. */
  boolean holds(int slot, long entryKey) {
    return (flags[slot] & FLAG_LIVE) != 0 && key[slot] == entryKey;
  }

  int add(BidSpec b, long seq) {
    int s = freeTop > 0 ? freeSlots[--freeTop] : highWater++;
    if (s >= id.length) {
      grow(Math.max(16, id.length * 2));
    }
    id[s] = b.id();
    account[s] = b.account();
    limit[s] = b.limitPrice();
    expiresAt[s] = b.expiresAtMillis();
    regions[s] = b.regionMask();
    nodes[s] = b.nodes();
    minNodes[s] = b.minNodes();
    duration[s] = b.durationSlots();
    earliest[s] = b.earliestStart();
    latest[s] = b.latestEnd();
    minNotice[s] = b.minNoticeSeconds();
    minConf[s] = b.minConfidencePpm();
    int[] pools = null;
    long mask = 0;
    if (!b.avoidPools().isEmpty()) {
      pools = new int[b.avoidPools().size()];
      for (int i = 0; i < pools.length; i++) {
        pools[i] = b.avoidPools().get(i);
        mask |= 1L << pools[i];
      }
    }
    avoid[s] = pools;
    avoidMask[s] = mask;
    flags[s] =
        (byte)
            (FLAG_LIVE
                | (b.timeInForce() == TimeInForce.IOC ? FLAG_IOC : 0)
                | (b.requeue() ? FLAG_REQUEUE : 0)
                | (b.requeueAvoidsPool() ? FLAG_REQUEUE_AVOIDS_POOL : 0));
    reason[s] = 0;
    failedEpoch[s] = NEVER_FAILED;
    index.put(b.id(), s);
    live++;
    level(s, 1);
    enqueue(s, seq);
    return s;
  }

  /**
   * Counts the bid in {@code s} into its price level ({@code sign} 1) or out of it (-1): call with
   * -1 before its limit or nodes change and with 1 after.
   */
  void level(int s, int sign) {
    long p = limit[s];
    long v = levels.get(p) + sign * ((1L << LEVEL_COUNT_SHIFT) + nodes[s]);
    if (v == 0) {
      levels.remove(p);
    } else {
      levels.put(p, v);
    }
  }

  /** Gives the bid in {@code slot} a new priority key and queues it for the next merge. */
  void enqueue(int s, long seq) {
    long k = packKey(limit[s], seq);
    key[s] = k;
    if (pendingLength == pendingKey.length) {
      compactPending();
    }
    if (pendingLength == pendingKey.length) {
      pendingKey = Arrays.copyOf(pendingKey, pendingLength * 2);
      pendingSlot = Arrays.copyOf(pendingSlot, pendingLength * 2);
    }
    pendingKey[pendingLength] = k;
    pendingSlot[pendingLength++] = s;
  }

  /**
   * Drops pending entries of bids cancelled or amended since (the merge would drop them too), so
   * that a long run of places and cancels between two epochs does not grow the list without end.
   * Grows it instead when more than half of it is live.
   */
  private void compactPending() {
    int out = 0;
    for (int r = 0; r < pendingLength; r++) {
      if (holds(pendingSlot[r], pendingKey[r])) {
        pendingKey[out] = pendingKey[r];
        pendingSlot[out++] = pendingSlot[r];
      }
    }
    if (out > pendingLength / 2) {
      pendingKey = Arrays.copyOf(pendingKey, pendingKey.length * 2);
      pendingSlot = Arrays.copyOf(pendingSlot, pendingSlot.length * 2);
    }
    pendingLength = out;
  }

  void remove(int s) {
    index.remove(id[s]);
    release(s);
  }

  /** Removes bid {@code bidId} with one probe of the index; returns its slot, or -1. */
  int removeById(long bidId) {
    int s = (int) index.remove(bidId);
    if (s >= 0) {
      release(s);
    }
    return s;
  }

  /** Whether bid {@code s} takes only some windows by confidence or pool. */
  boolean steered(int s) {
    return minConf[s] > 0 || avoidMask[s] != 0;
  }

  /**
   * Whether a window of confidence {@code confidencePpm} in pool {@code poolKey} is barred to bid
   * {@code s}: an int compare, then a mask test; only a hit in the mask reads the pool list.
   */
  boolean bars(int s, int confidencePpm, int poolKey) {
    return confidencePpm < minConf[s] || avoids(avoidMask[s], avoid[s], poolKey);
  }

  /** Whether {@code poolKey} is in {@code pools} ({@code mask} its quick filter). */
  static boolean avoids(long mask, int[] pools, int poolKey) {
    return (mask & (1L << poolKey)) != 0 && Arrays.binarySearch(pools, poolKey) >= 0;
  }

  private void release(int s) {
    level(s, -1);
    avoid[s] = null;
    flags[s] = 0;
    key[s] = 0;
    if (freeTop == freeSlots.length) {
      freeSlots = Arrays.copyOf(freeSlots, freeSlots.length * 2);
    }
    freeSlots[freeTop++] = s;
    live--;
  }

  BidSpec spec(int s) { // allocates: outside the hot path
    return new BidSpec(
        id[s],
        account[s],
        nodes[s],
        minNodes[s],
        duration[s],
        earliest[s],
        latest[s],
        limit[s],
        minNotice[s],
        regions[s],
        (flags[s] & FLAG_IOC) != 0 ? TimeInForce.IOC : TimeInForce.GTC,
        expiresAt[s],
        (flags[s] & FLAG_REQUEUE) != 0,
        minConf[s],
        avoidList(s),
        (flags[s] & FLAG_REQUEUE_AVOIDS_POOL) != 0);
  }

  List<Integer> avoidList(int s) { // allocates: outside the hot path
    return avoid[s] == null ? List.of() : Arrays.stream(avoid[s]).boxed().toList();
  }

  /**
   * Merges pending entries into the priority order and drops stale entries (cancelled, amended or
   * reused slots), leaving {@code orderKey[0..orderLength)} ascending and every entry live.
   */
  void mergePending() {
    if (pendingLength > 1) {
      sortPending();
    }
    int total = orderLength + pendingLength;
    if (orderKey.length < total) {
      int c = Math.max(total, orderKey.length * 2);
      orderKey = Arrays.copyOf(orderKey, c);
      orderSlot = Arrays.copyOf(orderSlot, c);
    }
    // merge from the back so the order array can be reused in place
    int i = orderLength - 1;
    int j = pendingLength - 1;
    int w = total - 1;
    while (j >= 0) {
      if (i >= 0 && orderKey[i] > pendingKey[j]) {
        orderKey[w] = orderKey[i];
        orderSlot[w--] = orderSlot[i--];
      } else {
        orderKey[w] = pendingKey[j];
        orderSlot[w--] = pendingSlot[j--];
      }
    }
    pendingLength = 0;
    // compact: keep only entries whose slot still holds that key
    int out = 0;
    for (int r = 0; r < total; r++) {
      int s = orderSlot[r];
      long k = orderKey[r];
      if (holds(s, k)) {
        orderKey[out] = k;
        orderSlot[out++] = s;
      }
    }
    orderLength = out;
  }

  /**
   * The slots of the live bids in priority order, as {@link #mergePending} would leave them,
   * without changing the store. // allocates: snapshots only
   */
  int[] orderedSlots() {
    long[] pk = Arrays.copyOf(pendingKey, pendingLength);
    int[] ps = Arrays.copyOf(pendingSlot, pendingLength);
    if (pk.length > 1) {
      sortPairs(pk, ps, 0, pk.length - 1);
    }
    int[] out = new int[live];
    int n = 0;
    int i = 0;
    int j = 0;
    while (i < orderLength || j < pk.length) {
      boolean fromOrder = j == pk.length || (i < orderLength && orderKey[i] < pk[j]);
      long k = fromOrder ? orderKey[i] : pk[j];
      int slot = fromOrder ? orderSlot[i++] : ps[j++];
      if (holds(slot, k)) {
        out[n++] = slot;
      }
    }
    return n == out.length ? out : Arrays.copyOf(out, n);
  }

  private void sortPending() {
    sortPairs(pendingKey, pendingSlot, 0, pendingLength - 1);
  }

  /** Sorts {@code keys[lo..hi]} ascending, moving {@code slots} along; keys are distinct. */
  private static void sortPairs(long[] keys, int[] slots, int lo, int hi) {
    while (hi - lo > 16) {
      long pivot = keys[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (keys[i] < pivot) {
          i++;
        }
        while (keys[j] > pivot) {
          j--;
        }
        if (i <= j) {
          long k = keys[i];
          keys[i] = keys[j];
          keys[j] = k;
          int s = slots[i];
          slots[i] = slots[j];
          slots[j] = s;
          i++;
          j--;
        }
      }
      // recurse into the smaller half, loop on the larger: bounded stack depth
      if (j - lo < hi - i) {
        sortPairs(keys, slots, lo, j);
        lo = i;
      } else {
        sortPairs(keys, slots, i, hi);
        hi = j;
      }
    }
    for (int i = lo + 1; i <= hi; i++) {
      long k = keys[i];
      int s = slots[i];
      int j = i - 1;
      while (j >= lo && keys[j] > k) {
        keys[j + 1] = keys[j];
        slots[j + 1] = slots[j];
        j--;
      }
      keys[j + 1] = k;
      slots[j + 1] = s;
    }
  }

  private void grow(int c) {
    id = Arrays.copyOf(id, c);
    account = Arrays.copyOf(account, c);
    limit = Arrays.copyOf(limit, c);
    expiresAt = Arrays.copyOf(expiresAt, c);
    regions = Arrays.copyOf(regions, c);
    avoidMask = Arrays.copyOf(avoidMask, c);
    avoid = Arrays.copyOf(avoid, c);
    minConf = Arrays.copyOf(minConf, c);
    key = Arrays.copyOf(key, c);
    failedEpoch = Arrays.copyOf(failedEpoch, c);
    nodes = Arrays.copyOf(nodes, c);
    minNodes = Arrays.copyOf(minNodes, c);
    duration = Arrays.copyOf(duration, c);
    earliest = Arrays.copyOf(earliest, c);
    latest = Arrays.copyOf(latest, c);
    minNotice = Arrays.copyOf(minNotice, c);
    flags = Arrays.copyOf(flags, c);
    reason = Arrays.copyOf(reason, c);
  }
}
