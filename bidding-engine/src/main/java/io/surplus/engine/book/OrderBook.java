package io.surplus.engine.book;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The order book of one market (one GPU model): open bids, offered windows and the leases on them,
 * and the epoch clearing that matches them.
 *
 * <p>Single-threaded and deterministic: the same sequence of calls with the same arguments yields
 * the same results, and {@link #snapshot()} / {@link #restore(byte[])} give back a book that
 * behaves identically. Outcomes are {@link ResultCode}s; exceptions are only for misuse.
 *
 * <p>Clearing (see DESIGN.md, "The mechanism"): bids in price-time priority each take the earliest
 * start in one window that holds all their nodes for the whole duration (best fit, then lowest
 * reserve, then window id breaking ties), or failing that the largest fill down to {@code
 * minNodes}; every lease pays the uniform price (the lowest filled limit, raised to its window's
 * reserve) or, under {@link PricingRule#PAY_AS_BID}, its own limit. A bid that failed is searched
 * again only when capacity appeared inside its time range.
 */
public final class OrderBook {

  private final SlotClock clock;
  private final PricingRule pricing;
  private final boolean repair;
  private final boolean repack;
  private final BidStore bids;
  private final Map<Long, WindowCapacity> windows = new HashMap<>();

  /** Windows ordered by (start, id); rebuilt when the set changes. */
  private WindowCapacity[] byStart = new WindowCapacity[0];

  private boolean windowsChanged;

  /** Specs of filled bids flagged requeue, by bid id, while their lease lasts. */
  private final Long2ObjectHashMap<BidSpec> requeueSpecs = new Long2ObjectHashMap<>();

  /** Slot ranges that gained capacity since the last epoch: [from, to) pairs. */
  private int[] gains = new int[16];

  private long[] gainWindows = new long[8];

  private int gainCount;

  /** Windows that gained capacity since the last epoch, ordered like {@link #byStart}. */
  private WindowCapacity[] gained = new WindowCapacity[0];

  private int gainedCount;

  /** This epoch's search sets: every window, and those that gained capacity. */
  private final WindowIndex all = new WindowIndex();

  private final WindowIndex gainedIndex = new WindowIndex();

  /** Free windows per slot and node count, built for epochs that search many bids. */
  private final SlotIndex slotIndex = new SlotIndex();

  private boolean slotsBuilt;

  /** Below this many (bid, window) pairs to search an epoch walks the windows instead. */
  static final long SLOT_INDEX_MIN_PAIRS = 1L << 21;

  /** {@link #SLOT_INDEX_MIN_PAIRS}, lowered by tests to clear small books through the index. */
  static volatile long slotIndexMinPairs = SLOT_INDEX_MIN_PAIRS;

  /** Most 64-bit words the slot index may hold (32 MiB); past it, it indexes fewer node counts. */
  private static final long SLOT_INDEX_MAX_WORDS = 1L << 22;

  /** Starts tried in the slot index before the rest of a bid's range is searched per window. */
  private static final int SLOT_INDEX_STARTS = 64;

  /**
   * Whether anything that can change an epoch's outcome happened since the last epoch (an accepted
   * place, cancel, amend, offer, extend or revocation), or the book is new, restored or never
   * cleared. See {@link #hasWork}.
   */
  private boolean touched = true;

  /** No open bid expires before this instant (a lower bound, from the last epoch on). */
  private long earliestExpiry = Long.MIN_VALUE;

  private long seq;
  private long leaseSeq;
  private long epoch;
  private int nowSlot;

  /** What failed this epoch against every window, and against the windows that gained. */
  private final InfeasibleStarts infeasible = new InfeasibleStarts();

  private final InfeasibleStarts infeasibleGained = new InfeasibleStarts();

  /** Shapes and starts that fit in no window as this epoch found it (so not OUTBID). */
  private final InfeasibleStarts neverFitted = new InfeasibleStarts();

  // per-epoch scratch
  private int[] scratchSum = new int[0];
  private byte[] gainMark = new byte[0];
  private int[] gainPrefix = new int[0];

  /**
   * A book whose epochs run the repair pass after the greedy placement when {@code repair} is set
   * (see {@link #clear}). The setting is part of the book: its snapshot, copies and restored books
   * keep it, so a replay clears as the original did.
   */
  public OrderBook(SlotClock clock, PricingRule pricing, boolean repair, int expectedBids) {
    this(clock, pricing, repair, false, expectedBids);
  }

  /**
   * A book whose repair pass ends with the re-pack phase when {@code repack} is set as well (see
   * {@link #repack}); {@code repack} without {@code repair} is refused. Like the pass, the setting
   * is part of the book.
   */
  public OrderBook(
      SlotClock clock, PricingRule pricing, boolean repair, boolean repack, int expectedBids) {
    requirePass(repair, repack);
    this.clock = clock;
    this.pricing = pricing;
    this.repair = repair;
    this.repack = repack;
    this.bids = new BidStore(expectedBids);
  }

  /** A book without the repair pass: the greedy clearing alone, as books were before it. */
  public OrderBook(SlotClock clock, PricingRule pricing, int expectedBids) {
    this(clock, pricing, false, expectedBids);
  }

  public OrderBook(SlotClock clock, PricingRule pricing, boolean repair) {
    this(clock, pricing, repair, 1024);
  }

  public OrderBook(SlotClock clock, PricingRule pricing) {
    this(clock, pricing, false, 1024);
  }

  public SlotClock clock() {
    return clock;
  }

  public PricingRule pricing() {
    return pricing;
  }

  /** Whether this book's epochs run the repair pass after the greedy placement. */
  public boolean repair() {
    return repair;
  }

  private static void requirePass(boolean repair, boolean repack) {
    if (repack && !repair) {
      throw new IllegalArgumentException("the re-pack phase is part of the repair pass");
    }
  }

  /** Whether this book's repair pass ends with the re-pack phase. */
  public boolean repack() {
    return repack;
  }

  public long epoch() {
    return epoch;
  }

  public int openBids() {
    return bids.live();
  }

  // ---------------------------------------------------------------- bids

  /** Adds a bid. Rejects a duplicate live id, an end in the past or past the horizon. */
  public ResultCode place(BidSpec bid, long nowMillis) {
    ResultCode rc = checkPlace(bid, nowMillis);
    if (rc == ResultCode.OK) {
      bids.add(bid, ++seq);
      touched = true;
    }
    return rc;
  }

  /** What {@link #place} would answer, without changing the book. */
  public ResultCode checkPlace(BidSpec bid, long nowMillis) {
    int first = clock.slotAtOrAfter(nowMillis);
    if (bids.slotOf(bid.id()) >= 0) {
      return ResultCode.DUPLICATE_ID;
    }
    if (bid.latestEnd() <= first) {
      return ResultCode.IN_THE_PAST;
    }
    if (bid.latestEnd() > first + clock.horizonSlots()) {
      return ResultCode.BEYOND_HORIZON;
    }
    if (bid.latestEnd() - bid.durationSlots() < first) {
      return ResultCode.TOO_LATE_TO_FIT;
    }
    return ResultCode.OK;
  }

  public ResultCode cancel(long bidId) {
    if (bids.removeById(bidId) < 0) {
      return ResultCode.UNKNOWN_BID;
    }
    touched = true;
    return ResultCode.OK;
  }

  /**
   * Amends an open bid: fewer nodes (keeps its time priority), a new limit (takes a new arrival
   * sequence), a new expiry. Pass the current value to leave a field as it is.
   */
  public ResultCode amend(long bidId, int nodes, long limitPrice, long expiresAtMillis) {
    int s = bids.slotOf(bidId);
    if (s < 0) {
      return ResultCode.UNKNOWN_BID;
    }
    if (nodes <= 0 || nodes > bids.nodes[s]) {
      return ResultCode.INVALID_AMENDMENT;
    }
    if (limitPrice <= 0 || limitPrice > io.surplus.engine.Price.MAX_MICROS) {
      return ResultCode.INVALID_AMENDMENT;
    }
    bids.level(s, -1);
    bids.nodes[s] = nodes;
    bids.minNodes[s] = Math.min(bids.minNodes[s], nodes);
    bids.expiresAt[s] = expiresAtMillis;
    if (limitPrice != bids.limit[s]) {
      bids.limit[s] = limitPrice;
      bids.enqueue(s, ++seq);
    }
    bids.level(s, 1);
    bids.failedEpoch[s] = BidStore.NEVER_FAILED;
    touched = true;
    return ResultCode.OK;
  }

  /** The open bid {@code bidId}, or null. */
  public BidSpec bid(long bidId) {
    int s = bids.slotOf(bidId);
    return s < 0 ? null : bids.spec(s);
  }

  /** Why open bid {@code bidId} has not filled, or null when it is not open. */
  public Reason reason(long bidId) {
    int s = bids.slotOf(bidId);
    return s < 0 ? null : Reason.of(bids.reason[s]);
  }

  // ---------------------------------------------------------------- windows

  public ResultCode offer(WindowSpec w, long nowMillis) {
    ResultCode rc = checkOffer(w, nowMillis);
    if (rc == ResultCode.OK) {
      windows.put(w.id(), new WindowCapacity(w));
      windowsChanged = true;
      touched = true;
      gain(w.startSlot(), w.endSlot(), w.id());
    }
    return rc;
  }

  /** What {@link #offer} would answer, without changing the book. */
  public ResultCode checkOffer(WindowSpec w, long nowMillis) {
    int first = clock.slotAtOrAfter(nowMillis);
    if (windows.containsKey(w.id())) {
      return ResultCode.DUPLICATE_ID;
    }
    if (w.endSlot() <= first) {
      return ResultCode.IN_THE_PAST;
    }
    if (w.endSlot() > first + clock.horizonSlots()) {
      return ResultCode.BEYOND_HORIZON;
    }
    return ResultCode.OK;
  }

  /** Moves a window's end later. */
  public ResultCode extend(long windowId, int newEndSlot, long nowMillis) {
    ResultCode rc = checkExtend(windowId, newEndSlot, nowMillis);
    if (rc != ResultCode.OK) {
      return rc;
    }
    WindowCapacity w = windows.get(windowId);
    int oldEnd = w.end;
    w.extendTo(newEndSlot);
    touched = true;
    gain(oldEnd, newEndSlot, windowId);
    return ResultCode.OK;
  }

  /** What {@link #extend} would answer, without changing the book. */
  public ResultCode checkExtend(long windowId, int newEndSlot, long nowMillis) {
    WindowCapacity w = windows.get(windowId);
    if (w == null) {
      return ResultCode.UNKNOWN_WINDOW;
    }
    if (newEndSlot <= w.end) {
      return ResultCode.INVALID_AMENDMENT;
    }
    if (newEndSlot > clock.slotAtOrAfter(nowMillis) + clock.horizonSlots()) {
      return ResultCode.BEYOND_HORIZON;
    }
    return ResultCode.OK;
  }

  public WindowSpec window(long windowId) {
    WindowCapacity w = windows.get(windowId);
    return w == null ? null : w.spec;
  }

  /** Free nodes of window {@code windowId} in absolute slot {@code slot}; 0 outside the window. */
  public int freeNodes(long windowId, int slot) {
    WindowCapacity w = windows.get(windowId);
    if (w == null || slot < w.start || slot >= w.end) {
      return 0;
    }
    return w.free.get(slot - w.start);
  }

  /** Offered nodes of window {@code windowId} in {@code slot} after revocations. */
  public int offeredNodes(long windowId, int slot) {
    WindowCapacity w = windows.get(windowId);
    if (w == null || slot < w.start || slot >= w.end) {
      return 0;
    }
    return w.cap[slot - w.start];
  }

  /** Current end slot of window {@code windowId}, or -1. */
  public int windowEnd(long windowId) {
    WindowCapacity w = windows.get(windowId);
    return w == null ? -1 : w.end;
  }

  /**
   * The aggregated, anonymous book at {@code nowMillis}: bids by limit price, windows by reserve.
   * Walks every open bid and window. // allocates: read side only, never on the clearing path
   */
  public Depth depth(long nowMillis) {
    int now = clock.slotAtOrBefore(nowMillis);
    // demand from the levels kept per price (a pass over the prices, never over the bids)
    long[] prices = new long[bids.levels.size()];
    int np = 0;
    for (Long2LongHashMap.KeyIterator k = bids.levels.keySet().iterator(); k.hasNext(); ) {
      prices[np++] = k.nextValue();
    }
    Arrays.sort(prices);
    TreeMap<Long, long[]> supply = new TreeMap<>();
    for (WindowCapacity w : windows.values()) {
      if (w.end <= now) {
        continue;
      }
      long[] level = supply.computeIfAbsent(w.reserve, k -> new long[3]);
      level[0]++;
      int from = Math.max(now, w.start);
      level[1] += now >= w.start ? w.free.get(now - w.start) : 0;
      for (int slot = from; slot < w.end; slot++) {
        level[2] += w.free.get(slot - w.start);
      }
    }
    List<Depth.BidLevel> bidLevels = new ArrayList<>(np);
    for (int i = np - 1; i >= 0; i--) {
      long p = prices[i];
      long v = bids.levels.get(p);
      bidLevels.add(
          new Depth.BidLevel(
              p, (int) (v >>> BidStore.LEVEL_COUNT_SHIFT), v & BidStore.LEVEL_NODES_MASK));
    }
    List<Depth.WindowLevel> windowLevels = new ArrayList<>(supply.size());
    supply.forEach((p, l) -> windowLevels.add(new Depth.WindowLevel(p, (int) l[0], l[1], l[2])));
    return new Depth(now, List.copyOf(bidLevels), List.copyOf(windowLevels));
  }

  /**
   * Every window that has not ended by {@code nowMillis}, ordered by start then id, with its
   * capacity from the current slot on as runs of equal offered and free nodes. Walks every slot of
   * every window. // allocates: read side only, never on the clearing path
   */
  public List<WindowProfile> windowProfiles(long nowMillis) {
    int now = clock.slotAtOrBefore(nowMillis);
    List<WindowCapacity> live = new ArrayList<>(windows.size());
    for (WindowCapacity w : windows.values()) {
      if (w.end > now) {
        live.add(w);
      }
    }
    live.sort(
        Comparator.comparingInt((WindowCapacity w) -> w.start).thenComparingLong(w -> w.id()));
    List<WindowProfile> out = new ArrayList<>(live.size());
    for (WindowCapacity w : live) {
      List<WindowProfile.Run> runs = new ArrayList<>();
      int from = Math.max(now, w.start);
      int runStart = from;
      int offered = w.cap[from - w.start];
      int free = w.free.get(from - w.start);
      for (int slot = from + 1; slot < w.end; slot++) {
        int o = w.cap[slot - w.start];
        int f = w.free.get(slot - w.start);
        if (o != offered || f != free) {
          runs.add(new WindowProfile.Run(runStart, slot, offered, free));
          runStart = slot;
          offered = o;
          free = f;
        }
      }
      runs.add(new WindowProfile.Run(runStart, w.end, offered, free));
      out.add(new WindowProfile(w.spec, w.end, List.copyOf(runs)));
    }
    return List.copyOf(out);
  }

  /** Leases on window {@code windowId} that have not ended, in allocation order. */
  public List<Lease> leasesOf(long windowId) {
    WindowCapacity w = windows.get(windowId);
    return w == null ? List.of() : List.copyOf(w.leases);
  }

  /**
   * Reclaims capacity: window {@code windowId} keeps at most {@code nodes} nodes from {@code
   * fromMillis} on ({@code nodes = 0} ends it early). Leases that no longer fit are cut lowest
   * price first, then latest allocated. A planned revocation must give the window's promised
   * notice.
   */
  public RevocationPlan revoke(
      long windowId, int nodes, long fromMillis, RevocationKind kind, long nowMillis) {
    WindowCapacity w = windows.get(windowId);
    if (w == null) {
      return RevocationPlan.rejected(ResultCode.UNKNOWN_WINDOW, windowId);
    }
    if (nodes < 0 || nodes >= w.spec.nodes()) {
      return RevocationPlan.rejected(ResultCode.INVALID_REVOCATION, windowId);
    }
    long noticeMillis = w.spec.noticeSeconds() * 1000L;
    if (kind == RevocationKind.PLANNED && fromMillis < nowMillis + noticeMillis) {
      return RevocationPlan.rejected(ResultCode.NOTICE_VIOLATION, windowId);
    }
    long from = Math.max(fromMillis, nowMillis);
    // from the window's end on there is nothing to take; an instant past it (however far) is that
    int fromSlot = from >= clock.startMillis(w.end) ? w.end : clock.slotAtOrBefore(from);
    w.lowerCapacity(epoch, fromSlot, nodes);
    touched = true;

    List<Lease> candidates = new ArrayList<>();
    for (Lease l : w.leases) {
      if (l.endSlot() > fromSlot) {
        candidates.add(l);
      }
    }
    candidates.sort(
        Comparator.comparingLong(Lease::price).thenComparing(Lease::id, Comparator.reverseOrder()));
    List<Cut> cuts = new ArrayList<>();
    int rel = Math.max(fromSlot, w.start) - w.start;
    for (Lease l : candidates) {
      if (rel >= w.span() || w.free.min(rel, w.span()) >= 0) {
        break;
      }
      int cutFrom = Math.max(fromSlot, l.startSlot());
      if (w.free.min(cutFrom - w.start, l.endSlot() - w.start) >= 0) {
        continue;
      }
      w.give(epoch, cutFrom, l.endSlot(), l.nodes());
      int idx = w.leases.indexOf(l);
      if (cutFrom > l.startSlot()) {
        w.leases.set(idx, l.withEnd(cutFrom));
      } else {
        w.leases.remove(idx);
      }
      long preemptAt = Math.max(from, clock.startMillis(l.startSlot()));
      long shortfall =
          kind == RevocationKind.EMERGENCY
              ? Math.max(0, (noticeMillis - (preemptAt - nowMillis) + 999) / 1000)
              : 0;
      boolean requeued = requeue(l, w, preemptAt, nowMillis);
      cuts.add(new Cut(l, preemptAt, kind, shortfall, requeued));
    }
    if (!cuts.isEmpty()) {
      gain(fromSlot, w.end, windowId);
    }
    return new RevocationPlan(ResultCode.OK, windowId, List.copyOf(cuts));
  }

  private boolean requeue(Lease l, WindowCapacity cutBy, long preemptAt, long nowMillis) {
    BidSpec orig = requeueSpecs.remove(l.bidId());
    if (orig == null || bids.slotOf(l.bidId()) >= 0) {
      return false;
    }
    int lostFrom = Math.max(clock.slotAtOrBefore(preemptAt), l.startSlot());
    int remaining = l.endSlot() - lostFrom;
    int es = Math.max(clock.slotAtOrAfter(preemptAt), clock.slotAtOrAfter(nowMillis));
    int le = Math.max(orig.latestEnd(), es + remaining);
    if (remaining <= 0 || le > clock.slotAtOrAfter(nowMillis) + clock.horizonSlots()) {
      return false;
    }
    BidSpec again =
        new BidSpec(
            orig.id(),
            orig.account(),
            l.nodes(),
            Math.min(orig.minNodes(), l.nodes()),
            remaining,
            es,
            le,
            orig.limitPrice(),
            orig.minNoticeSeconds(),
            orig.regionMask(),
            TimeInForce.GTC,
            orig.expiresAtMillis(),
            true,
            orig.minConfidencePpm(),
            orig.avoidPools(),
            orig.requeueAvoidsPool());
    bids.add(orig.requeueAvoidsPool() ? again.withAvoidedPool(cutBy.poolKey) : again, ++seq);
    return true;
  }

  private void gain(int from, int to, long windowId) {
    if (gainCount * 2 + 2 > gains.length) {
      gains = Arrays.copyOf(gains, gains.length * 2);
    }
    if (gainCount == gainWindows.length) {
      gainWindows = Arrays.copyOf(gainWindows, gainCount * 2);
    }
    gainWindows[gainCount] = windowId;
    gains[gainCount * 2] = from;
    gains[gainCount * 2 + 1] = to;
    gainCount++;
  }

  // ---------------------------------------------------------------- the epoch

  /**
   * Whether an epoch at {@code nowMillis} could change anything. False only when it certainly would
   * not: the book has been cleared before, nothing was placed, cancelled, amended, offered,
   * extended or revoked since the last epoch, {@code nowMillis} falls in the same slot as that
   * epoch's, and no open bid expires by {@code nowMillis}. Such an epoch makes no lease, closes no
   * bid (an IOC bid is closed by the epoch after its arrival, so none is open), changes no reason
   * (every open bid failed in the last epoch and no capacity appeared since), and leaves the book
   * as it was apart from the epoch counter and each open bid's record of the epoch it last failed
   * in. A market may skip such an epoch: later epochs then give the same leases, prices and
   * reasons, numbered one lower. O(1); true when unsure (a new, restored or copied-while-touched
   * book).
   */
  public boolean hasWork(long nowMillis) {
    return touched
        || epoch == 0
        || clock.slotAtOrAfter(nowMillis) != nowSlot
        || nowMillis >= earliestExpiry;
  }

  /** Runs one epoch at {@code nowMillis}: expires, clears, prices and explains. */
  public EpochResult clear(long nowMillis) {
    epoch++;
    nowSlot = clock.slotAtOrAfter(nowMillis);
    retireEnded();
    bids.mergePending();
    markGains();
    all.fill(byStart, byStart.length, 0);
    gainedIndex.fill(gained, gainedCount, 1);
    buildSlotIndex();
    gainedTakes += Integer.MAX_VALUE; // cached runs of the last epoch are stale
    infeasible.reset(nowSlot, 2 * clock.horizonSlots() + 2);
    infeasibleGained.reset(nowSlot, 2 * clock.horizonSlots() + 2);
    neverFitted.reset(nowSlot, 2 * clock.horizonSlots() + 2);

    final BidStore b = bids;
    final long ep = epoch;
    final int now = nowSlot;
    List<Lease> made = new ArrayList<>();
    long[] expired = new long[8];
    int expiredCount = 0;
    Leftovers left = new Leftovers();
    int searched = 0;
    int skipped = 0;
    long lowestFilled = Long.MAX_VALUE;
    long marginal = -1;
    long nextExpiry = Long.MAX_VALUE;
    int[] counts = new int[Reason.values().length];

    final int n = b.orderLength;
    final long[] order = b.orderKey;
    final int[] slots = b.orderSlot;
    for (int r = 0; r < n; r++) {
      int s = slots[r];
      if (!b.holds(s, order[r])) {
        continue;
      }
      int a0 = Math.max(b.earliest[s], now);
      int lastStart = b.latest[s] - b.duration[s];
      if (b.expiresAt[s] <= nowMillis || lastStart < now) {
        if (expiredCount == expired.length) {
          expired = Arrays.copyOf(expired, expiredCount * 2);
        }
        expired[expiredCount++] = b.id[s];
        b.remove(s);
        continue;
      }
      nextExpiry = Math.min(nextExpiry, b.expiresAt[s]); // of bids that may stay: a lower bound
      // A bid that failed last epoch can only fit in a window that gained capacity since.
      boolean retry = b.failedEpoch[s] == ep - 1;
      if (retry && !gainedIn(a0, b.latest[s])) {
        b.failedEpoch[s] = ep;
        counts[b.reason[s]]++;
        skipped++;
        continue;
      }
      searched++;
      // A bid already OUTBID that fails again stays OUTBID: only a placement would change it, and
      // none is possible when no window that gained holds its smallest fill for its duration now
      // (capacity only shrinks within an epoch, so the search over those windows would fail).
      if (retry
          && b.reason[s] == OUTBID
          && (b.flags[s] & BidStore.FLAG_IOC) == 0
          && !gainedMayHold(s, a0, lastStart)) {
        b.failedEpoch[s] = ep;
        if (repair) {
          addFailed(s, a0, lastStart, F_RETRY | F_KEPT_OUTBID);
        } else {
          counts[OUTBID]++;
        }
        continue;
      }
      WindowIndex ix = retry ? gainedIndex : all;
      Placement p = place(ix, s, a0, lastStart, retry);
      if (p != null) {
        Lease lease =
            new Lease(
                ++leaseSeq,
                b.id[s],
                b.account[s],
                p.window.id(),
                p.nodes,
                p.window.spec.gpusPerNode(),
                p.start,
                p.start + b.duration[s],
                0,
                b.limit[s],
                ep);
        if (slotsBuilt) {
          slotIndex.beforeTake(
              p.window, p.window.position[0], lease.startSlot(), lease.endSlot(), lease.nodes());
        }
        p.window.take(ep, lease.startSlot(), lease.endSlot(), lease.nodes());
        if (p.window.position[1] >= 0
            && p.window.position[1] < gainedIndex.count
            && gainedIndex.windows[p.window.position[1]] == p.window) {
          gainedTakes++;
        }
        all.refresh(p.window, p.window.position[0]);
        gainedIndex.refresh(p.window, p.window.position[1]);
        made.add(lease);
        if (repair) {
          recordFill(made.size() - 1, p.window, p.start, p.nodes, s, a0, lastStart);
        }
        if (b.limit[s] <= lowestFilled) {
          lowestFilled = b.limit[s];
          marginal = b.id[s];
        }
        if ((b.flags[s] & BidStore.FLAG_REQUEUE) != 0) {
          requeueSpecs.put(b.id[s], b.spec(s));
        }
        b.remove(s);
        continue;
      }
      if (repair) {
        // explained after the greedy placement, and again over the final state where it changed
        b.failedEpoch[s] = ep;
        addFailed(s, a0, lastStart, retry ? F_RETRY : 0);
        continue;
      }
      // a retried bid keeps the closer of its old and new reasons: nothing is closer than OUTBID
      Reason why = retry && b.reason[s] == OUTBID ? Reason.OUTBID : explain(ix, s, a0, lastStart);
      if (retry && RANK[b.reason[s]] > RANK[why.ordinal()]) {
        why = Reason.of(b.reason[s]); // the windows not searched again still say what they said
      }
      b.failedEpoch[s] = ep;
      left.settle(b, s, why, counts);
    }
    int repairFills = 0;
    int repairMoves = 0;
    if (repair) {
      int greedyFills = made.size();
      repairMoves = repairPass(made);
      repairFills = made.size() - greedyFills;
      boolean moved = repairMoves > 0 || repairFills > 0;
      for (int i = 0; i < failCount; i++) {
        if ((failFlags[i] & F_ADMITTED) != 0) {
          continue;
        }
        int s = failSlot[i];
        boolean retry = (failFlags[i] & F_RETRY) != 0;
        Reason why = Reason.of(failWhy[i]);
        if (moved && (failFlags[i] & F_POOLED) != 0) {
          // the pooled test reads free capacity: read it from the final allocation
          WindowIndex ix = retry ? gainedIndex : all;
          why =
              pooledFits(ix.windows, ix.count, s, failA0[i], failLast[i])
                  ? Reason.FRAGMENTED
                  : Reason.NO_CAPACITY_IN_WINDOW;
        }
        if (retry && RANK[b.reason[s]] > RANK[why.ordinal()]) {
          why = Reason.of(b.reason[s]);
        }
        left.settle(b, s, why, counts);
      }
      // the uniform price over the final allocation: the lowest limit filled, greedy or repair
      lowestFilled = Long.MAX_VALUE;
      marginal = -1;
      for (Lease l : made) {
        if (l.limitPrice() <= lowestFilled) {
          lowestFilled = l.limitPrice();
          marginal = l.bidId();
        }
      }
      fills.clear();
      failCount = 0;
      freedCount = 0;
    }
    gainCount = 0;
    touched = false;
    earliestExpiry = nextExpiry;

    long price = made.isEmpty() ? 0 : lowestFilled;
    List<Lease> priced = new ArrayList<>(made.size());
    for (Lease l : made) {
      WindowCapacity w = windows.get(l.windowId());
      long reserve = w.spec.reservePrice();
      long pays = pricing == PricingRule.PAY_AS_BID ? l.limitPrice() : Math.max(price, reserve);
      Lease p = l.withPrice(pays);
      w.leases.add(p);
      priced.add(p);
    }
    return new EpochResult(
        ep,
        now,
        price,
        marginal,
        List.copyOf(priced),
        Arrays.copyOf(expired, expiredCount),
        Arrays.copyOf(left.iocGone, left.iocCount),
        Arrays.copyOf(left.changedIds, left.changed),
        Arrays.copyOf(left.changedReasons, left.changed),
        counts,
        b.live(),
        searched,
        skipped,
        repairFills,
        repairMoves);
  }

  /**
   * How close each reason says a bid came to filling, so a bid searched again only among windows
   * that gained capacity keeps the closer of its old and new reasons.
   */
  private static final int[] RANK = rank();

  private static final byte OUTBID = (byte) Reason.OUTBID.ordinal();

  private static int[] rank() {
    int[] r = new int[Reason.values().length];
    Reason[] order = {
      Reason.NONE,
      Reason.REGION,
      Reason.AVOIDED_POOL,
      Reason.BELOW_MIN_CONFIDENCE,
      Reason.NOTICE_TOO_SHORT,
      Reason.BELOW_RESERVE,
      Reason.NO_CAPACITY_IN_WINDOW,
      Reason.FRAGMENTED,
      Reason.OUTBID
    };
    for (int i = 0; i < order.length; i++) {
      r[order[i].ordinal()] = i;
    }
    return r;
  }

  private void retireEnded() {
    for (WindowCapacity w : windows.values()) {
      if (!w.leases.isEmpty()) {
        w.leases.removeIf(this::leaseEnded);
      }
    }
    boolean removed = windows.values().removeIf(w -> w.end <= nowSlot);
    if (removed || windowsChanged) {
      byStart = windows.values().toArray(new WindowCapacity[0]);
      Arrays.sort(
          byStart,
          Comparator.<WindowCapacity>comparingInt(w -> w.start)
              .thenComparingLong(WindowCapacity::id));
      windowsChanged = false;
    }
  }

  private boolean leaseEnded(Lease l) {
    if (l.endSlot() > nowSlot) {
      return false;
    }
    if (!requeueSpecs.isEmpty()) {
      requeueSpecs.remove(l.bidId());
    }
    return true;
  }

  /** Builds a prefix count of slots (relative to now) that gained capacity since the last epoch. */
  private void markGains() {
    int len = 2 * clock.horizonSlots() + 2;
    if (gainMark.length < len) {
      gainMark = new byte[len];
      gainPrefix = new int[len + 1];
    } else {
      Arrays.fill(gainMark, 0, len, (byte) 0);
    }
    for (int g = 0; g < gainCount; g++) {
      int from = Math.max(gains[2 * g], nowSlot) - nowSlot;
      int to = Math.min(gains[2 * g + 1] - nowSlot, len);
      for (int t = from; t < to; t++) {
        gainMark[t] = 1;
      }
    }
    gainedCount = 0;
    if (gained.length < byStart.length) {
      gained = new WindowCapacity[byStart.length];
    }
    if (gainCount > 0) {
      for (WindowCapacity w : byStart) {
        for (int g = 0; g < gainCount; g++) {
          if (gainWindows[g] == w.id()) {
            gained[gainedCount++] = w;
            break;
          }
        }
      }
    }
    gainPrefix[0] = 0;
    for (int t = 0; t < len; t++) {
      gainPrefix[t + 1] = gainPrefix[t] + gainMark[t];
    }
  }

  /** Takes this epoch from windows that gained capacity: stamps {@link #gainedRun}. */
  private long gainedTakes;

  /** Per node count: the longest free run in any window that gained, and when it was read. */
  private int[] gainedRun = new int[0];

  private long[] gainedRunStamp = new long[0];

  /**
   * Whether some window that gained capacity since the last epoch has {@code nodes} free for {@code
   * d} slots anywhere from now on (its longest run, cached until a take from such a window).
   */
  private boolean gainedMayHold(int s, int a0, int lastStart) {
    final BidStore b = bids;
    final int nodes = b.minNodes[s];
    final int d = b.duration[s];
    if (gainedIndex.count == 0) {
      return false;
    }
    if (nodes >= gainedRun.length) {
      int c = Math.max(nodes + 1, 2 * gainedRun.length);
      gainedRun = Arrays.copyOf(gainedRun, c);
      gainedRunStamp = Arrays.copyOf(gainedRunStamp, c);
    }
    long stamp = gainedTakes + 1;
    if (gainedRunStamp[nodes] != stamp) {
      int best = 0;
      for (int i = 0; i < gainedIndex.count; i++) {
        if (gainedIndex.maxFree[i] >= nodes) {
          best = Math.max(best, gainedIndex.windows[i].longestRun(nowSlot, nodes));
        }
      }
      gainedRun[nodes] = best;
      gainedRunStamp[nodes] = stamp;
    }
    if (gainedRun[nodes] < d) {
      return false;
    }
    // the search's own filters, without the search
    final WindowIndex g = gainedIndex;
    final long limit = b.limit[s];
    final int minNotice = b.minNotice[s];
    final long regions = b.regions[s];
    for (int i = 0; i < g.count; i++) {
      if (g.maxFree[i] >= nodes
          && g.reserve[i] <= limit
          && g.notice[i] >= minNotice
          && (regions & g.regionBit[i]) != 0
          && !b.bars(s, g.confidence[i], g.poolKey[i])
          && Math.max(a0, g.start[i]) <= Math.min(lastStart, g.end[i] - d)
          && g.windows[i].longestRun(nowSlot, nodes) >= d) {
        return true;
      }
    }
    return false;
  }

  private boolean gainedIn(int from, int to) {
    int len = gainPrefix.length - 1;
    int f = Math.min(Math.max(from - nowSlot, 0), len);
    int t = Math.min(Math.max(to - nowSlot, 0), len);
    return gainPrefix[t] - gainPrefix[f] > 0;
  }

  /** Builds the slot index when this epoch has enough bids to search against every window. */
  private void buildSlotIndex() {
    final BidStore b = bids;
    final long ep = epoch;
    long fresh = 0;
    int maxNodes = 0;
    for (int r = 0; r < b.orderLength; r++) {
      int s = b.orderSlot[r];
      if (b.holds(s, b.orderKey[r]) && b.failedEpoch[s] != ep - 1) {
        fresh++;
        maxNodes = Math.max(maxNodes, b.nodes[s]);
      }
    }
    // the index holds node counts x slots x windows bits, twice: fewer counts for a huge book
    long perCount = 2L * (clock.horizonSlots() + 2) * ((all.count + 63) >>> 6);
    int counts = (int) Math.min(maxNodes, SLOT_INDEX_MAX_WORDS / Math.max(1, perCount));
    slotsBuilt = counts > 0 && fresh * all.count >= slotIndexMinPairs;
    if (slotsBuilt) {
      slotIndex.build(all, nowSlot, counts);
    }
  }

  /** A chosen placement. */
  private record Placement(WindowCapacity window, int start, int nodes) {}

  private Placement place(WindowIndex ix, int s, int a0, int lastStart, boolean retry) {
    final BidStore b = bids;
    Placement p = tryPlace(ix, s, a0, lastStart, b.nodes[s], retry, false);
    if (p != null || b.minNodes[s] == b.nodes[s]) {
      return p;
    }
    // Feasibility is monotone in the node count: binary search for the largest partial fill,
    // asking only whether a count fits anywhere, then place that count.
    int lo = b.minNodes[s];
    int hi = b.nodes[s] - 1;
    if (tryPlace(ix, s, a0, lastStart, lo, retry, true) == null) {
      return null;
    }
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (tryPlace(ix, s, a0, lastStart, mid, retry, true) != null) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return search(ix, s, a0, lastStart, lo, false);
  }

  /**
   * {@link #search} unless this epoch already learned that no start in range works for the shape
   * (or a smaller one) among the windows searched; a failed search by a bid open to every window
   * teaches that. A bid searched again only among the windows that gained capacity also uses, and
   * teaches, what failed among those alone.
   */
  private Placement tryPlace(
      WindowIndex ix, int s, int a0, int lastStart, int nodes, boolean retry, boolean any) {
    final int d = bids.duration[s];
    // starts known to fit nowhere are skipped: the earliest start and its ties lie past them
    int from =
        retry
            ? infeasible.firstUnknown(
                nodes, d, infeasibleGained.firstUnknown(nodes, d, a0, lastStart), lastStart)
            : infeasible.firstUnknown(nodes, d, a0, lastStart);
    if (from > lastStart) {
      return null;
    }
    Placement p = search(ix, s, from, lastStart, nodes, any);
    if (openToAll(s)) {
      InfeasibleStarts memo = retry ? infeasibleGained : infeasible;
      if (p == null) {
        memo.add(nodes, d, from, lastStart);
      } else if (!any && p.start > from) {
        memo.add(nodes, d, from, p.start - 1);
      }
    }
    return p;
  }

  /**
   * Whether bid {@code s} may use every window whose reserve is within its limit: only what such a
   * bid learns about capacity holds for every bid after it in the epoch.
   */
  private boolean openToAll(int s) {
    final BidStore b = bids;
    return b.minNotice[s] == 0 && b.regions[s] == BidSpec.ANY_REGION && !b.steered(s);
  }

  private boolean eligible(int s, WindowCapacity w) {
    final BidStore b = bids;
    return w.reserve <= b.limit[s]
        && w.notice >= b.minNotice[s]
        && (b.regions[s] & w.regionBit) != 0
        && !b.bars(s, w.confidence, w.poolKey);
  }

  /**
   * Earliest start with {@code nodes} free for the duration in one window, best fit on ties; with
   * {@code any}, the first window found that holds the bid at some start (its placement is not the
   * chosen one, only proof that one exists).
   */
  private Placement search(WindowIndex ix, int s, int a0, int lastStart, int nodes, boolean any) {
    final BidStore b = bids;
    final int d = b.duration[s];
    final long limit = b.limit[s];
    final int minNotice = b.minNotice[s];
    final long regions = b.regions[s];
    final int minConf = b.minConf[s];
    final long avoidMask = b.avoidMask[s];
    final int[] avoid = b.avoid[s];
    final int now = nowSlot;
    final int n = ix.count;
    final int[] starts = ix.start;
    final int[] ends = ix.end;
    final int[] notices = ix.notice;
    final long[] reserves = ix.reserve;
    final long[] regionBits = ix.regionBit;
    final int[] confidences = ix.confidence;
    final int[] poolKeys = ix.poolKey;
    final int[] maxFree = ix.maxFree;
    WindowCapacity bestW = null;
    int bestStart = Integer.MAX_VALUE;
    int bestLeft = Integer.MAX_VALUE;
    // the slot index has no masks for confidence or pool: a steered bid walks the windows
    if (slotsBuilt && ix == all && nodes <= slotIndex.nodes() && !b.steered(s)) {
      int until = Math.min(lastStart, a0 + SLOT_INDEX_STARTS - 1);
      int start = slotIndex.earliest(limit, minNotice, regions, a0, until, d, nodes);
      if (start >= 0) {
        return bestAt(slotIndex.found(), start, d, nodes, any);
      }
      if (until == lastStart) {
        return null;
      }
      a0 = until + 1; // no start before it fits anywhere
    }
    // bestSpot applies the same rule to the repair pass's windows, apart on purpose: this scan, the
    // greedy's per bid, reads the index's columns so that a window which cannot hold the bid is
    // passed over without touching its object (maxFree first); bestSpot walks window objects,
    // charges the pass's work budget per window and may ask for a number of GPUs per node. The tail
    // both share (earliest run, best fit) updates three locals their loop tests read, which one
    // method could hand back only through an object or fields, here on the hot path
    for (int wi = 0; wi < n; wi++) {
      int ws = starts[wi];
      if (ws > lastStart || ws > bestStart) {
        break;
      }
      int a = Math.max(a0, ws);
      int last = Math.min(lastStart, ends[wi] - d);
      if (a > last
          || a > bestStart
          || maxFree[wi] < nodes
          || reserves[wi] > limit
          || notices[wi] < minNotice
          || (regions & regionBits[wi]) == 0
          || confidences[wi] < minConf
          || BidStore.avoids(avoidMask, avoid, poolKeys[wi])) {
        continue;
      }
      WindowCapacity w = ix.windows[wi];
      if (w.longestRun(now, nodes) < d) {
        continue;
      }
      int start = w.earliestRun(now, a, Math.min(last, bestStart), d, nodes);
      if (start < 0) {
        continue;
      }
      if (any) {
        return new Placement(w, start, nodes);
      }
      int rel = start - w.start;
      int left = w.free.min(rel, rel + d) - nodes;
      if (better(start, left, w, bestStart, bestLeft, bestW)) {
        bestW = w;
        bestStart = start;
        bestLeft = left;
      }
    }
    return bestW == null ? null : new Placement(bestW, bestStart, nodes);
  }

  /** The best fit among the windows in {@code hits} that all hold the bid from {@code start}. */
  private Placement bestAt(long[] hits, int start, int d, int nodes, boolean any) {
    WindowCapacity bestW = null;
    int bestLeft = Integer.MAX_VALUE;
    // every window left has the same least free count when the index could tell it
    boolean known = !any && slotIndex.narrowToBestFit(start, d, nodes) >= 0;
    for (int k = 0, words = slotIndex.words(); k < words; k++) {
      long word = hits[k];
      while (word != 0) {
        int wi = (k << 6) + Long.numberOfTrailingZeros(word);
        word &= word - 1;
        WindowCapacity w = all.windows[wi];
        if (any) {
          return new Placement(w, start, nodes);
        }
        int rel = start - w.start;
        int left = known ? 0 : w.free.min(rel, rel + d) - nodes;
        if (bestW == null
            || left < bestLeft
            || (left == bestLeft
                && (w.reserve < bestW.reserve
                    || (w.reserve == bestW.reserve && w.id() < bestW.id())))) {
          bestW = w;
          bestLeft = left;
        }
      }
    }
    return new Placement(bestW, start, nodes);
  }

  /** The reason bid {@code s} found no placement this epoch. */
  private Reason explain(WindowIndex ix, int s, int a0, int lastStart) {
    explainedPooled = false;
    final BidStore b = bids;
    final int d = b.duration[s];
    final int need = b.minNodes[s];
    final WindowCapacity[] ws = ix.windows;
    final int wn = ix.count;
    // OUTBID needs one eligible window that held the bid at some start when the epoch began: the
    // slot index answers that for the first starts at once; past them the walk below looks on
    // (the epoch's initial capacity is fixed and later bids may use no more windows, so starts
    // found to fit nowhere in it stay so, as for the search)
    int outbidFrom = ix == all ? neverFitted.firstUnknown(need, d, a0, lastStart) : a0;
    if (slotsBuilt
        && ix == all
        && need <= slotIndex.nodes()
        && outbidFrom <= lastStart
        && !b.steered(s)) {
      int until = Math.min(lastStart, outbidFrom + SLOT_INDEX_STARTS - 1);
      if (slotIndex.earliestAtEpochStart(
              b.limit[s], b.minNotice[s], b.regions[s], outbidFrom, until, d, need)
          >= 0) {
        return Reason.OUTBID;
      }
      outbidFrom = until + 1;
    }
    boolean anyTime = false;
    boolean anyRegion = false;
    boolean anyPool = false;
    boolean anyConfidence = false;
    boolean anyNotice = false;
    boolean anyReserve = false;
    for (int wi = 0; wi < wn; wi++) {
      WindowCapacity w = ws[wi];
      if (w.start > lastStart) {
        break;
      }
      int a = Math.max(a0, w.start);
      int last = Math.min(lastStart, w.end - d);
      if (a > last) {
        continue;
      }
      anyTime = true;
      if ((b.regions[s] & (1L << w.spec.region())) == 0) {
        continue;
      }
      anyRegion = true;
      if (BidStore.avoids(b.avoidMask[s], b.avoid[s], w.poolKey)) {
        continue;
      }
      anyPool = true;
      if (w.confidence < b.minConf[s]) {
        continue;
      }
      anyConfidence = true;
      if (w.spec.noticeSeconds() < b.minNotice[s]) {
        continue;
      }
      anyNotice = true;
      if (w.spec.reservePrice() > b.limit[s]) {
        continue;
      }
      anyReserve = true;
      int from = Math.max(a, outbidFrom);
      if (from > last) {
        continue;
      }
      MinMaxTree before = w.freeAtEpochStart(epoch);
      if (before == w.free) {
        // untouched this epoch: its cached runs are the epoch's initial capacity
        if (w.longestRun(nowSlot, need) >= d && w.earliestRun(nowSlot, from, last, d, need) >= 0) {
          return Reason.OUTBID;
        }
      } else if (before.maxAll() >= need
          && before.earliestRun(from - w.start, last - w.start, d, need) >= 0) {
        return Reason.OUTBID;
      }
    }
    if (ix == all && openToAll(s)) {
      neverFitted.add(need, d, a0, lastStart);
    }
    if (!anyTime) {
      return Reason.NO_CAPACITY_IN_WINDOW;
    }
    if (!anyRegion) {
      return Reason.REGION;
    }
    if (!anyPool) {
      return Reason.AVOIDED_POOL;
    }
    if (!anyConfidence) {
      return Reason.BELOW_MIN_CONFIDENCE;
    }
    if (!anyNotice) {
      return Reason.NOTICE_TOO_SHORT;
    }
    if (!anyReserve) {
      return Reason.BELOW_RESERVE;
    }
    explainedPooled = true;
    return pooledFits(ws, wn, s, a0, lastStart) ? Reason.FRAGMENTED : Reason.NO_CAPACITY_IN_WINDOW;
  }

  /** Whether eligible windows together hold {@code minNodes} free for some run of the duration. */
  private boolean pooledFits(WindowCapacity[] ws, int wn, int s, int a0, int lastStart) {
    final BidStore b = bids;
    final int d = b.duration[s];
    final int end = lastStart + d;
    final int len = end - a0;
    if (scratchSum.length < len) {
      scratchSum = new int[Math.max(len, 2 * clock.horizonSlots())];
    }
    Arrays.fill(scratchSum, 0, len, 0);
    for (int wi = 0; wi < wn; wi++) {
      WindowCapacity w = ws[wi];
      if (w.start >= end) {
        break;
      }
      if (w.end <= a0 || !eligible(s, w)) {
        continue;
      }
      int from = Math.max(a0, w.start);
      int to = Math.min(end, w.end);
      for (int t = from; t < to; t++) {
        scratchSum[t - a0] += w.free.get(t - w.start);
      }
    }
    int run = 0;
    for (int t = 0; t < len; t++) {
      run = scratchSum[t] >= b.minNodes[s] ? run + 1 : 0;
      if (run >= d) {
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- the repair pass

  /**
   * Work the repair pass may do in one epoch, in units of one window looked at or one start tried
   * (each a few O(log slots) tree reads); past it the pass stops where it is. Default 2^16.
   */
  static final long REPAIR_WORK = 1L << 16;

  /**
   * Whether {@code start} in {@code w}, leaving {@code left} nodes free, beats the best place so
   * far: the earliest start, then the tightest fit, then the lowest reserve, then the lowest window
   * id.
   */
  private static boolean better(
      int start, int left, WindowCapacity w, int bestStart, int bestLeft, WindowCapacity bestW) {
    return start < bestStart
        || (start == bestStart
            && (left < bestLeft
                || (left == bestLeft
                    && (w.reserve < bestW.reserve
                        || (w.reserve == bestW.reserve && w.id() < bestW.id())))));
  }

  /**
   * What an epoch's bids left open come to: the reasons that changed and the IOC bids gone, in the
   * order they were settled (arrays grown as needed).
   */
  private static final class Leftovers {
    long[] iocGone = new long[8];
    int iocCount;
    long[] changedIds = new long[64];
    byte[] changedReasons = new byte[64];
    int changed;

    /** Bid {@code s} stays open for {@code why}: its reason, its count, and an IOC bid leaves. */
    void settle(BidStore b, int s, Reason why, int[] counts) {
      byte r = (byte) why.ordinal();
      if (b.reason[s] != r) {
        b.reason[s] = r;
        if (changed == changedIds.length) {
          changedIds = Arrays.copyOf(changedIds, changed * 2);
          changedReasons = Arrays.copyOf(changedReasons, changed * 2);
        }
        changedIds[changed] = b.id[s];
        changedReasons[changed++] = r;
      }
      counts[r]++;
      if ((b.flags[s] & BidStore.FLAG_IOC) != 0) {
        if (iocCount == iocGone.length) {
          iocGone = Arrays.copyOf(iocGone, iocCount * 2);
        }
        iocGone[iocCount++] = b.id[s];
        b.remove(s);
      }
    }
  }

  /** {@link #REPAIR_WORK}, changed only by tests and the quality measurements. */
  static volatile long repairWork = REPAIR_WORK;

  /** Work one open bid may take of the epoch's, so one hard bid cannot starve the rest. */
  static final long REPAIR_WORK_PER_BID = 1L << 12;

  /** The same in the second phase, where a bid still open may also try chains across windows. */
  static final long REPAIR_WORK_PER_CHAIN_BID = 1L << 14;

  /** Fills a chain of moves may lift beyond the first set (see {@link #eject}). */
  private static final int REPAIR_CHAIN = 2;

  /** Rounds over the open bids at most: a round that admits nothing ends the pass. */
  private static final int REPAIR_ROUNDS = 3;

  /** Fills of this epoch overlapping a start that the pass tries to move: singles, pairs, all. */
  private static final int REPAIR_CANDIDATES = 8;

  private static final int F_RETRY = 1;
  private static final int F_KEPT_OUTBID = 2;
  private static final int F_POOLED = 4;
  private static final int F_ADMITTED = 8;

  /** Bids the greedy searched this epoch and left open, in priority order. */
  private int[] failSlot = new int[64];

  private int[] failA0 = new int[64];
  private int[] failLast = new int[64];
  private byte[] failFlags = new byte[64];
  private byte[] failWhy = new byte[64];
  private int failCount;

  /** Whether the last {@link #explain} answered from the pooled free capacity. */
  private boolean explainedPooled;

  /** A lease made this epoch, with what its bid allows, so the pass can move it. */
  private static final class Fill {
    final int made;
    final int nodes;
    final int d;
    final int a0;
    final int lastStart;
    final int minNotice;
    final int gpus;
    final long limit;
    final long regions;
    final int minConf;
    final long avoidMask;
    final int[] avoid;
    WindowCapacity window;
    int start;

    Fill(
        int made,
        int nodes,
        int d,
        int a0,
        int lastStart,
        int minNotice,
        int gpus,
        long limit,
        long regions,
        int minConf,
        long avoidMask,
        int[] avoid,
        WindowCapacity window,
        int start) {
      this.made = made;
      this.nodes = nodes;
      this.d = d;
      this.a0 = a0;
      this.lastStart = lastStart;
      this.minNotice = minNotice;
      this.gpus = gpus;
      this.limit = limit;
      this.regions = regions;
      this.minConf = minConf;
      this.avoidMask = avoidMask;
      this.avoid = avoid;
      this.window = window;
      this.start = start;
    }

    /**
     * Whether this fill's lease may move to window {@code w}: its bid may use it (reserve, notice,
     * region, confidence, pool) and it has the same GPUs per node.
     */
    boolean allows(WindowCapacity w) {
      return w.reserve <= limit
          && w.notice >= minNotice
          && (regions & w.regionBit) != 0
          && w.confidence >= minConf
          && !BidStore.avoids(avoidMask, avoid, w.poolKey)
          && w.spec.gpusPerNode() == gpus;
    }
  }

  /** This epoch's fills, by their index in the epoch's lease list. */
  private final List<Fill> fills = new ArrayList<>();

  /** Windows a move took a lease from, ordered by (start, id) before the sweep. */
  private WindowCapacity[] freed = new WindowCapacity[8];

  private int freedCount;

  /** Work left for the bid the pass is on. */
  private long bidLeft;

  private final int[] moveSet = new int[REPAIR_CANDIDATES];
  private final int[] candidates = new int[REPAIR_CANDIDATES];
  private final WindowCapacity[] movedTo = new WindowCapacity[REPAIR_CANDIDATES];
  private final int[] movedStart = new int[REPAIR_CANDIDATES];
  private final int[] order = new int[REPAIR_CANDIDATES];

  /** How deep a chain of moves may go in the current phase of the pass. */
  private int chain;

  /** How many fills the last successful {@link #putBack} placed (the lifted ones and the chain). */
  private int setSize;

  /** Per node count: the longest free run in a freed window, and the sweep's take count then. */
  private int[] freedRun = new int[0];

  private long[] freedRunStamp = new long[0];
  private long sweepTakes;

  private void addFailed(int s, int a0, int lastStart, int flags) {
    if (failCount == failSlot.length) {
      int c = failCount * 2;
      failSlot = Arrays.copyOf(failSlot, c);
      failA0 = Arrays.copyOf(failA0, c);
      failLast = Arrays.copyOf(failLast, c);
      failFlags = Arrays.copyOf(failFlags, c);
      failWhy = Arrays.copyOf(failWhy, c);
    }
    failSlot[failCount] = s;
    failA0[failCount] = a0;
    failLast[failCount] = lastStart;
    failFlags[failCount] = (byte) flags;
    failCount++;
  }

  private void recordFill(
      int made, WindowCapacity w, int start, int nodes, int s, int a0, int lastStart) {
    final BidStore b = bids;
    fills.add(
        new Fill(
            made,
            nodes,
            b.duration[s],
            a0,
            lastStart,
            b.minNotice[s],
            w.spec.gpusPerNode(),
            b.limit[s],
            b.regions[s],
            b.minConf[s],
            b.avoidMask[s],
            b.avoid[s],
            w,
            start));
    attach(w, made);
  }

  private void attach(WindowCapacity w, int fill) {
    if (w.fillsEpoch != epoch) {
      w.fillsEpoch = epoch;
      w.fillCount = 0;
    }
    if (w.fillCount == w.fills.length) {
      w.fills = Arrays.copyOf(w.fills, w.fillCount * 2);
    }
    w.fills[w.fillCount++] = fill;
  }

  private void detach(WindowCapacity w, int fill) {
    for (int i = 0; i < w.fillCount; i++) {
      if (w.fills[i] == fill) {
        System.arraycopy(w.fills, i + 1, w.fills, i, w.fillCount - i - 1);
        w.fillCount--;
        return;
      }
    }
    throw new IllegalStateException("fill " + fill + " not on window " + w.id());
  }

  /**
   * After the greedy placement: admits bids it left open (OUTBID ones: only they fit in the
   * capacity the epoch began with, which is all that moving this epoch's leases can give back), in
   * priority order, each at the first start of the first window (by start, id) where it fits once
   * at most {@link #REPAIR_CANDIDATES} of this epoch's leases there move to another start or window
   * their own bid allows (same nodes, duration and GPUs per node); then, if anything moved, places
   * every open bid that now fits outright (the sweep), so no open bid fits anywhere. Nothing placed
   * is dropped or shrunk. Returns the moves made.
   */
  private int repairPass(List<Lease> made) {
    final BidStore b = bids;
    final long ep = epoch;
    for (int i = 0; i < failCount; i++) {
      int s = failSlot[i];
      Reason why;
      if ((failFlags[i] & F_KEPT_OUTBID) != 0
          || ((failFlags[i] & F_RETRY) != 0 && b.reason[s] == OUTBID)) {
        why = Reason.OUTBID;
      } else {
        why = explain((failFlags[i] & F_RETRY) != 0 ? gainedIndex : all, s, failA0[i], failLast[i]);
        if (explainedPooled) {
          failFlags[i] |= F_POOLED;
        }
      }
      failWhy[i] = (byte) why.ordinal();
    }
    long left = repairWork;
    int moves = 0;
    freedCount = 0;
    // first every open bid with moves inside one window and a small share of the work each, then
    // the ones still open with chains across windows and a larger share; a bid admitted changes
    // the layout, so one that failed before it may fit now: each phase goes round again
    for (int phase = 0; phase < 2 && left > 0; phase++) {
      chain = phase == 0 ? 0 : REPAIR_CHAIN;
      long perBid = phase == 0 ? REPAIR_WORK_PER_BID : REPAIR_WORK_PER_CHAIN_BID;
      boolean progress = true;
      for (int round = 0; round < REPAIR_ROUNDS && progress && left > 0; round++) {
        progress = false;
        for (int i = 0; i < failCount && left > 0; i++) {
          if (failWhy[i] != OUTBID || (failFlags[i] & F_ADMITTED) != 0) {
            continue;
          }
          bidLeft = Math.min(left, perBid);
          long given = bidLeft;
          int m = admit(made, failSlot[i], failA0[i], failLast[i], ep);
          left -= given - Math.max(bidLeft, 0);
          if (m >= 0) {
            failFlags[i] |= F_ADMITTED;
            moves += m;
            progress = true;
          }
        }
      }
    }
    if (moves > 0) {
      sweep(made, ep);
    }
    if (repack) {
      // after the sweep, so the phase starts from what the pass without it ends with, and only adds
      int m = repack(made, ep);
      if (m > 0) {
        moves += m;
        sweep(made, ep);
      }
    }
    return moves;
  }

  /** Tries to admit bid {@code s}; the moves it took, or -1. */
  private int admit(List<Lease> made, int s, int a0, int lastStart, long ep) {
    final BidStore b = bids;
    final int d = b.duration[s];
    final int need = b.minNodes[s];
    final int want = b.nodes[s];
    for (int wi = 0; wi < all.count; wi++) {
      WindowCapacity w = all.windows[wi];
      if (w.start > lastStart) {
        break;
      }
      if (--bidLeft < 0) {
        return -1;
      }
      MinMaxTree initial = w.freeAtEpochStart(ep);
      // a window untouched this epoch is as the greedy found it when the bid failed
      if (initial == w.free || !eligible(s, w) || initial.maxAll() < need) {
        continue;
      }
      int from = Math.max(a0, w.start) - w.start;
      int last = Math.min(lastStart, w.end - d) - w.start;
      if (from > last) {
        continue;
      }
      int t = initial.earliestRun(from, last, d, need);
      while (t >= 0) {
        if (--bidLeft < 0) {
          return -1;
        }
        for (int k = Math.min(want, initial.min(t, t + d)); k >= need; k--) {
          int m = admitAt(made, s, a0, lastStart, w, t + w.start, k, ep);
          if (m >= 0) {
            return m;
          }
          if (bidLeft < 0) {
            return -1;
          }
        }
        t = t < last ? initial.earliestRun(t + 1, last, d, need) : -1;
      }
    }
    return -1;
  }

  /**
   * Admits bid {@code s} with {@code k} nodes at {@code t} in {@code w}, moving leases if needed.
   */
  private int admitAt(
      List<Lease> made, int s, int a0, int lastStart, WindowCapacity w, int t, int k, long ep) {
    final int d = bids.duration[s];
    final int rel = t - w.start;
    if (w.free.min(rel, rel + d) >= k) {
      w.take(ep, t, t + d, k);
      admitted(made, s, a0, lastStart, w, t, k);
      return 0;
    }
    int c = 0;
    if (w.fillsEpoch == ep) {
      for (int i = 0; i < w.fillCount && c < REPAIR_CANDIDATES; i++) {
        Fill f = fills.get(w.fills[i]);
        if (f.start < t + d && f.start + f.d > t) {
          candidates[c++] = w.fills[i];
        }
      }
    }
    for (int i = 0; i < c; i++) {
      moveSet[0] = candidates[i];
      int m = tryMoves(made, s, a0, lastStart, w, t, k, 1, ep);
      if (m >= 0 || --bidLeft < 0) {
        return m;
      }
    }
    for (int i = 0; i < c; i++) {
      for (int j = i + 1; j < c; j++) {
        moveSet[0] = candidates[i];
        moveSet[1] = candidates[j];
        int m = tryMoves(made, s, a0, lastStart, w, t, k, 2, ep);
        if (m >= 0 || --bidLeft < 0) {
          return m;
        }
      }
    }
    if (c > 2) {
      System.arraycopy(candidates, 0, moveSet, 0, c);
      int m = tryMoves(made, s, a0, lastStart, w, t, k, c, ep);
      if (m >= 0 || --bidLeft < 0) {
        return m;
      }
    }
    // the whole window's fills of this epoch, when few: a lease that does not overlap the start
    // may have to shift to make room for one that does
    if (w.fillsEpoch == ep && w.fillCount > c && w.fillCount <= REPAIR_CANDIDATES) {
      System.arraycopy(w.fills, 0, moveSet, 0, w.fillCount);
      return tryMoves(made, s, a0, lastStart, w, t, k, w.fillCount, ep);
    }
    return -1;
  }

  /**
   * Lifts the fills {@code moveSet[0..n)} off {@code w}, places bid {@code s} at {@code t} with
   * {@code k} nodes, and puts the lifted fills back where their bids allow ({@link #putBack});
   * undoes everything when they cannot all be put back. The moves made, or -1.
   */
  private int tryMoves(
      List<Lease> made,
      int s,
      int a0,
      int lastStart,
      WindowCapacity w,
      int t,
      int k,
      int n,
      long ep) {
    final int d = bids.duration[s];
    final int rel = t - w.start;
    for (int i = 0; i < n; i++) {
      Fill f = fills.get(moveSet[i]);
      w.give(ep, f.start, f.start + f.d, f.nodes);
    }
    if (w.free.min(rel, rel + d) < k) {
      for (int i = 0; i < n; i++) {
        Fill f = fills.get(moveSet[i]);
        w.take(ep, f.start, f.start + f.d, f.nodes);
      }
      return -1;
    }
    w.take(ep, t, t + d, k);
    // put the largest back first: they have the fewest places to go
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = 1; i < n; i++) {
      for (int j = i; j > 0 && bigger(order[j], order[j - 1]); j--) {
        int x = order[j];
        order[j] = order[j - 1];
        order[j - 1] = x;
      }
    }
    if (!putBack(0, n, ep, 0)) {
      w.give(ep, t, t + d, k);
      for (int i = 0; i < n; i++) {
        Fill f = fills.get(moveSet[i]);
        w.take(ep, f.start, f.start + f.d, f.nodes);
      }
      return -1;
    }
    int moves = 0;
    for (int i = 0; i < setSize; i++) {
      Fill f = fills.get(moveSet[i]);
      if (movedTo[i] == f.window && movedStart[i] == f.start) {
        continue;
      }
      moves++;
      move(made, f, movedTo[i], movedStart[i]);
      movedTo[i] = null;
    }
    admitted(made, s, a0, lastStart, w, t, k);
    return moves;
  }

  /** Moves fill {@code f} (already taken from {@code to} at {@code start}) and its lease there. */
  private void move(List<Lease> made, Fill f, WindowCapacity to, int start) {
    markFreed(f.window);
    detach(f.window, f.made);
    attach(to, f.made);
    f.window = to;
    f.start = start;
    Lease l = made.get(f.made);
    made.set(
        f.made,
        new Lease(
            l.id(),
            l.bidId(),
            l.account(),
            to.id(),
            l.nodes(),
            l.gpusPerNode(),
            start,
            start + f.d,
            0,
            l.limitPrice(),
            l.epoch()));
  }

  private boolean bigger(int i, int j) {
    Fill a = fills.get(moveSet[i]);
    Fill b = fills.get(moveSet[j]);
    return (long) a.nodes * a.d > (long) b.nodes * b.d;
  }

  /**
   * Puts the lifted fills {@code moveSet[order[idx..n)]} back, depth first: each tries its own
   * place first, then every start its bid allows in every window it may use (same GPUs per node),
   * by window (start, id) then start; a dead end undoes its take and tries the next. One unit of
   * {@link #bidLeft} per place tried; out of work, it fails. On success {@code movedTo} and {@code
   * movedStart} hold where each went.
   */
  private boolean putBack(int idx, int n, long ep, int depth) {
    if (idx == n) {
      setSize = n;
      return true;
    }
    final int i = order[idx];
    final Fill f = fills.get(moveSet[i]);
    final WindowCapacity home = f.window;
    if (--bidLeft < 0) {
      return false;
    }
    if (home.free.min(f.start - home.start, f.start - home.start + f.d) >= f.nodes) {
      home.take(ep, f.start, f.start + f.d, f.nodes);
      movedTo[i] = home;
      movedStart[i] = f.start;
      if (putBack(idx + 1, n, ep, depth)) {
        return true;
      }
      home.give(ep, f.start, f.start + f.d, f.nodes);
    }
    for (int wi = 0; wi < all.count; wi++) {
      WindowCapacity w = all.windows[wi];
      if (w.start > f.lastStart) {
        break;
      }
      if (--bidLeft < 0) {
        return false;
      }
      if (!f.allows(w) || w.free.maxAll() < f.nodes) {
        continue;
      }
      int from = Math.max(f.a0, w.start) - w.start;
      int last = Math.min(f.lastStart, w.end - f.d) - w.start;
      int at = from <= last ? w.free.earliestRun(from, last, f.d, f.nodes) : -1;
      while (at >= 0) {
        if (--bidLeft < 0) {
          return false;
        }
        int abs = at + w.start;
        if (w != home || abs != f.start) {
          w.take(ep, abs, abs + f.d, f.nodes);
          movedTo[i] = w;
          movedStart[i] = abs;
          if (putBack(idx + 1, n, ep, depth)) {
            return true;
          }
          w.give(ep, abs, abs + f.d, f.nodes);
          if (bidLeft < 0) {
            return false;
          }
        }
        at = at < last ? w.free.earliestRun(at + 1, last, f.d, f.nodes) : -1;
      }
    }
    return depth < chain && n < REPAIR_CANDIDATES && eject(idx, n, ep, depth);
  }

  /**
   * No free place holds lifted fill {@code moveSet[order[idx]]}: lifts one more of this epoch's
   * fills from another place that would then hold it, puts it there, and puts the newly lifted one
   * back after the others (a chain of moves across windows, at most {@link #REPAIR_CHAIN} long).
   * Only starts where the window held the fill when the epoch began are tried.
   */
  private boolean eject(int idx, int n, long ep, int depth) {
    final int i = order[idx];
    final Fill f = fills.get(moveSet[i]);
    for (int wi = 0; wi < all.count; wi++) {
      WindowCapacity w = all.windows[wi];
      if (w.start > f.lastStart) {
        break;
      }
      if (--bidLeft < 0) {
        return false;
      }
      MinMaxTree initial = w.freeAtEpochStart(ep);
      if (initial == w.free || w.fillsEpoch != ep || !f.allows(w) || initial.maxAll() < f.nodes) {
        continue;
      }
      int from = Math.max(f.a0, w.start) - w.start;
      int last = Math.min(f.lastStart, w.end - f.d) - w.start;
      int at = from <= last ? initial.earliestRun(from, last, f.d, f.nodes) : -1;
      while (at >= 0) {
        int abs = at + w.start;
        for (int j = 0; j < w.fillCount; j++) {
          if (--bidLeft < 0) {
            return false;
          }
          int gi = w.fills[j];
          Fill g = fills.get(gi);
          if (g.start >= abs + f.d || g.start + g.d <= abs || lifted(gi, n)) {
            continue;
          }
          w.give(ep, g.start, g.start + g.d, g.nodes);
          if (w.free.min(at, at + f.d) >= f.nodes) {
            w.take(ep, abs, abs + f.d, f.nodes);
            movedTo[i] = w;
            movedStart[i] = abs;
            moveSet[n] = gi;
            order[n] = n;
            if (putBack(idx + 1, n + 1, ep, depth + 1)) {
              return true;
            }
            w.give(ep, abs, abs + f.d, f.nodes);
          }
          w.take(ep, g.start, g.start + g.d, g.nodes);
          if (bidLeft < 0) {
            return false;
          }
        }
        at = at < last ? initial.earliestRun(at + 1, last, f.d, f.nodes) : -1;
      }
    }
    return false;
  }

  private boolean lifted(int fill, int n) {
    for (int k = 0; k < n; k++) {
      if (moveSet[k] == fill) {
        return true;
      }
    }
    return false;
  }

  private void markFreed(WindowCapacity w) {
    for (int i = 0; i < freedCount; i++) {
      if (freed[i] == w) {
        return;
      }
    }
    if (freedCount == freed.length) {
      freed = Arrays.copyOf(freed, freedCount * 2);
    }
    freed[freedCount++] = w;
  }

  /** Records bid {@code s}'s lease (already taken from {@code w}) and closes the bid. */
  private void admitted(
      List<Lease> made, int s, int a0, int lastStart, WindowCapacity w, int t, int k) {
    final BidStore b = bids;
    Lease lease =
        new Lease(
            ++leaseSeq,
            b.id[s],
            b.account[s],
            w.id(),
            k,
            w.spec.gpusPerNode(),
            t,
            t + b.duration[s],
            0,
            b.limit[s],
            epoch);
    made.add(lease);
    recordFill(made.size() - 1, w, t, k, s, a0, lastStart);
    if ((b.flags[s] & BidStore.FLAG_REQUEUE) != 0) {
      requeueSpecs.put(b.id[s], b.spec(s));
    }
    b.remove(s);
  }

  /**
   * Moves only give capacity back in the windows a lease left: every open OUTBID bid that now fits
   * in one of them outright is placed there, in priority order (the largest fill down to its
   * minimum, earliest start, best fit), so that no open bid fits anywhere after the pass.
   */
  private void sweep(List<Lease> made, long ep) {
    final BidStore b = bids;
    sweepTakes++; // free runs cached before this sweep (by an earlier one) may be stale
    Arrays.sort(
        freed,
        0,
        freedCount,
        Comparator.<WindowCapacity>comparingInt(w -> w.start)
            .thenComparingLong(WindowCapacity::id));
    for (int i = 0; i < failCount; i++) {
      if (failWhy[i] != OUTBID || (failFlags[i] & F_ADMITTED) != 0) {
        continue;
      }
      int s = failSlot[i];
      if (!freedMayHold(b.minNodes[s], b.duration[s])) {
        continue;
      }
      bidLeft = Long.MAX_VALUE;
      int a0 = failA0[i];
      int lastStart = failLast[i];
      Placement p = sweepSpot(s, a0, lastStart, b.nodes[s], false);
      if (p == null && b.minNodes[s] < b.nodes[s]) {
        int lo = b.minNodes[s];
        int hi = b.nodes[s] - 1;
        if (sweepSpot(s, a0, lastStart, lo, true) != null) {
          while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (sweepSpot(s, a0, lastStart, mid, true) != null) {
              lo = mid;
            } else {
              hi = mid - 1;
            }
          }
          p = sweepSpot(s, a0, lastStart, lo, false);
        }
      }
      if (p != null) {
        p.window.take(ep, p.start, p.start + b.duration[s], p.nodes);
        sweepTakes++;
        admitted(made, s, a0, lastStart, p.window, p.start, p.nodes);
        failFlags[i] |= F_ADMITTED;
      }
    }
  }

  private Placement sweepSpot(int s, int a0, int lastStart, int nodes, boolean any) {
    final BidStore b = bids;
    return bestSpot(
        freed,
        freedCount,
        nodes,
        b.duration[s],
        a0,
        lastStart,
        b.limit[s],
        b.minNotice[s],
        b.regions[s],
        s,
        0,
        any);
  }

  /** Whether some freed window has {@code nodes} free for {@code d} slots anywhere from now on. */
  private boolean freedMayHold(int nodes, int d) {
    if (nodes >= freedRun.length) {
      int c = Math.max(nodes + 1, 2 * freedRun.length);
      freedRun = Arrays.copyOf(freedRun, c);
      freedRunStamp = Arrays.copyOf(freedRunStamp, c);
      Arrays.fill(freedRunStamp, 0, c, -1);
    }
    long stamp = sweepTakes + ((long) epoch << 32);
    if (freedRunStamp[nodes] != stamp) {
      int best = 0;
      for (int i = 0; i < freedCount; i++) {
        if (freed[i].free.maxAll() >= nodes) {
          best = Math.max(best, freed[i].longestRun(nowSlot, nodes));
        }
      }
      freedRun[nodes] = best;
      freedRunStamp[nodes] = stamp;
    }
    return freedRun[nodes] >= d;
  }

  /**
   * The greedy's rule over windows {@code ws[0..count)} (ordered by start, id): the earliest start
   * with {@code nodes} free for {@code d} slots in one window the bid may use, best fit, then
   * lowest reserve, then window id; with {@code any}, the first found. {@code gpus > 0} admits only
   * windows with that many GPUs per node. Charges one unit of {@link #bidLeft} per window.
   */
  private Placement bestSpot(
      WindowCapacity[] ws,
      int count,
      int nodes,
      int d,
      int a0,
      int lastStart,
      long limit,
      int minNotice,
      long regions,
      int s,
      int gpus,
      boolean any) {
    final int now = nowSlot;
    WindowCapacity bestW = null;
    int bestStart = Integer.MAX_VALUE;
    int bestLeft = Integer.MAX_VALUE;
    // search applies the same rule to the greedy's window index, apart on purpose: this loop walks
    // window objects, charges the pass's work budget (bidLeft) for every window it looks at and may
    // ask for a number of GPUs per node; search reads the index's columns and has no budget
    for (int wi = 0; wi < count; wi++) {
      WindowCapacity w = ws[wi];
      if (w.start > lastStart || w.start > bestStart) {
        break;
      }
      bidLeft--;
      int a = Math.max(a0, w.start);
      int last = Math.min(lastStart, w.end - d);
      if (a > last
          || a > bestStart
          || w.reserve > limit
          || w.notice < minNotice
          || (regions & w.regionBit) == 0
          || bids.bars(s, w.confidence, w.poolKey)
          || (gpus > 0 && w.spec.gpusPerNode() != gpus)
          || w.free.maxAll() < nodes
          || w.longestRun(now, nodes) < d) {
        continue;
      }
      int start = w.earliestRun(now, a, Math.min(last, bestStart), d, nodes);
      if (start < 0) {
        continue;
      }
      if (any) {
        return new Placement(w, start, nodes);
      }
      int rel = start - w.start;
      int left = w.free.min(rel, rel + d) - nodes;
      if (better(start, left, w, bestStart, bestLeft, bestW)) {
        bestW = w;
        bestStart = start;
        bestLeft = left;
      }
    }
    return bestW == null ? null : new Placement(bestW, bestStart, nodes);
  }

  // ---------------------------------------------------------------- the re-pack phase

  /**
   * Work the re-pack phase may do in one epoch, in units of one place looked for or found (a longer
   * lease's place counts more), one open bid looked at, one pair of windows looked at.
   */
  static final long REPACK_WORK = 1L << 18;

  /** {@link #REPACK_WORK}, changed only by tests and the quality measurements. */
  static volatile long repackWork = REPACK_WORK;

  /** Open bids a re-packed pair of windows offers room to: the first, in priority order. */
  private static final int REPACK_CANDIDATES = 64;

  /** A pair of windows holding more of this epoch's fills than this is not re-packed. */
  private static final int REPACK_FILLS = 48;

  /** Rounds over the pairs at most: a round that admits nothing ends the phase. */
  private static final int REPACK_ROUNDS = 2;

  /** Orders the fills are put back in: largest, most nodes, longest, least room to move. */
  private static final int REPACK_ORDERS = 4;

  /** Where each goes: the earliest start, the latest, the tightest fit. */
  private static final int REPACK_RULES = 3;

  private long packLeft;
  private final WindowCapacity[] pair = new WindowCapacity[2];
  private final int[] packFill = new int[REPACK_FILLS];
  private int packFills;
  private final int[] packOrder = new int[REPACK_FILLS];
  private final WindowCapacity[] packWin = new WindowCapacity[REPACK_FILLS];
  private final int[] packStart = new int[REPACK_FILLS];
  private final WindowCapacity[] bestWin = new WindowCapacity[REPACK_FILLS];
  private final int[] bestStart = new int[REPACK_FILLS];
  private final int[] cand = new int[REPACK_CANDIDATES];

  /** Which of the pair's windows each candidate (bit 0: the first, bit 1: the second) may use. */
  private final int[] candMask = new int[REPACK_CANDIDATES];

  /** The same for each lifted fill: where its lease may go. */
  private final int[] fillMask = new int[REPACK_FILLS];

  private int candCount;
  private final WindowCapacity[] candWin = new WindowCapacity[REPACK_CANDIDATES];
  private final int[] candStart = new int[REPACK_CANDIDATES];
  private final int[] candNodes = new int[REPACK_CANDIDATES];
  private final WindowCapacity[] candBestWin = new WindowCapacity[REPACK_CANDIDATES];
  private final int[] candBestStart = new int[REPACK_CANDIDATES];
  private final int[] candBestNodes = new int[REPACK_CANDIDATES];

  /** The place {@link #spot} found: its window and start. */
  private WindowCapacity spotWin;

  private int spotStart;

  /**
   * The repair pass's last phase: the moves above shift a few leases for one bid at a time; this
   * re-packs two windows at once. For every pair of windows (by start, id) where this epoch made a
   * lease, it lifts all of the pair's leases of this epoch and puts them back in each of {@link
   * #REPACK_ORDERS} orders by each of {@link #REPACK_RULES} rules (each lease with its nodes,
   * inside its bid's range, in either window its bid may use with the same GPUs per node), then
   * offers the room left to the first {@link #REPACK_CANDIDATES} open OUTBID bids either window may
   * hold, in priority order, each with the most nodes a place holds down to its minimum. The
   * arrangement that admits the most welfare (limit x GPU-slots) is kept when it admits any; else
   * the pair is left as it was. Every lease of the epoch, the greedy's and the pass's, keeps its
   * fill and its nodes, so welfare only rises. At most {@link #REPACK_ROUNDS} rounds and {@link
   * #repackWork} units. Returns the leases moved.
   */
  private int repack(List<Lease> made, long ep) {
    packLeft = repackWork;
    int moves = 0;
    for (int round = 0; round < REPACK_ROUNDS && packLeft > 0; round++) {
      boolean progress = false;
      for (int a = 0; a < all.count && packLeft > 0; a++) {
        WindowCapacity wa = all.windows[a];
        for (int c = a + 1; c < all.count && packLeft > 0; c++) {
          WindowCapacity wc = all.windows[c];
          packLeft--;
          int n = fillsOf(wa, ep) + fillsOf(wc, ep);
          if (n == 0 || n > REPACK_FILLS) {
            continue;
          }
          int m = repackPair(made, wa, wc, ep);
          if (m >= 0) {
            moves += m;
            progress = true;
          }
        }
      }
      if (!progress) {
        break;
      }
    }
    return moves;
  }

  private static int fillsOf(WindowCapacity w, long ep) {
    return w.fillsEpoch == ep ? w.fillCount : 0;
  }

  /**
   * Re-packs windows {@code wa} and {@code wc} (holding 1 to {@link #REPACK_FILLS} of this epoch's
   * fills); the leases moved, or -1 when none was admitted.
   */
  private int repackPair(List<Lease> made, WindowCapacity wa, WindowCapacity wc, long ep) {
    final BidStore b = bids;
    pair[0] = wa;
    pair[1] = wc;
    candCount = 0;
    for (int i = 0; i < failCount && candCount < REPACK_CANDIDATES; i++) {
      if (--packLeft < 0) {
        return -1;
      }
      if (failWhy[i] != OUTBID || (failFlags[i] & F_ADMITTED) != 0) {
        continue;
      }
      int s = failSlot[i];
      int mask = (mayHold(wa, s, i, ep) ? 1 : 0) | (mayHold(wc, s, i, ep) ? 2 : 0);
      if (mask != 0) {
        candMask[candCount] = mask;
        cand[candCount++] = i;
      }
    }
    if (candCount == 0) {
      return -1;
    }
    packFills = 0;
    for (WindowCapacity w : pair) {
      for (int i = 0; i < fillsOf(w, ep); i++) {
        int j = packFills++;
        packFill[j] = w.fills[i];
        Fill f = fills.get(w.fills[i]);
        fillMask[j] = (f.allows(wa) ? 1 : 0) | (f.allows(wc) ? 2 : 0);
        w.give(ep, f.start, f.start + f.d, f.nodes);
      }
    }
    long best = 0;
    for (int order = 0; order < REPACK_ORDERS && packLeft > 0; order++) {
      sortFills(order);
      for (int rule = 0; rule < REPACK_RULES && packLeft > 0; rule++) {
        long v = arrange(rule, ep);
        if (v > best) {
          best = v;
          System.arraycopy(packWin, 0, bestWin, 0, packFills);
          System.arraycopy(packStart, 0, bestStart, 0, packFills);
          System.arraycopy(candWin, 0, candBestWin, 0, candCount);
          System.arraycopy(candStart, 0, candBestStart, 0, candCount);
          System.arraycopy(candNodes, 0, candBestNodes, 0, candCount);
        }
      }
    }
    if (best == 0) {
      for (int j = 0; j < packFills; j++) {
        Fill f = fills.get(packFill[j]);
        f.window.take(ep, f.start, f.start + f.d, f.nodes);
      }
      return -1;
    }
    int moves = 0;
    for (int j = 0; j < packFills; j++) {
      Fill f = fills.get(packFill[j]);
      WindowCapacity w = bestWin[j];
      int t = bestStart[j];
      w.take(ep, t, t + f.d, f.nodes);
      if (w != f.window || t != f.start) {
        moves++;
        move(made, f, w, t);
      }
    }
    for (int q = 0; q < candCount; q++) {
      WindowCapacity w = candBestWin[q];
      if (w == null) {
        continue;
      }
      int i = cand[q];
      int s = failSlot[i];
      int t = candBestStart[q];
      w.take(ep, t, t + b.duration[s], candBestNodes[q]);
      admitted(made, s, failA0[i], failLast[i], w, t, candBestNodes[q]);
      failFlags[i] |= F_ADMITTED;
    }
    return moves;
  }

  /** Whether window {@code w} could hold open bid {@code s} (fail entry {@code i}) at all. */
  private boolean mayHold(WindowCapacity w, int s, int i, long ep) {
    final int d = bids.duration[s];
    return w.start <= failLast[i]
        && Math.max(failA0[i], w.start) <= Math.min(failLast[i], w.end - d)
        && eligible(s, w)
        && w.freeAtEpochStart(ep).maxAll() >= bids.minNodes[s];
  }

  /** Orders the lifted fills for {@link #arrange}: by {@code order}, then as they were made. */
  private void sortFills(int order) {
    for (int j = 0; j < packFills; j++) {
      packOrder[j] = j;
    }
    for (int j = 1; j < packFills; j++) {
      for (int k = j; k > 0 && before(order, packOrder[k], packOrder[k - 1]); k--) {
        int x = packOrder[k];
        packOrder[k] = packOrder[k - 1];
        packOrder[k - 1] = x;
      }
    }
  }

  private boolean before(int order, int i, int j) {
    Fill a = fills.get(packFill[i]);
    Fill c = fills.get(packFill[j]);
    long ka;
    long kc;
    switch (order) {
      case 0 -> {
        ka = -(long) a.nodes * a.d;
        kc = -(long) c.nodes * c.d;
      }
      case 1 -> {
        ka = -a.nodes;
        kc = -c.nodes;
      }
      case 2 -> {
        ka = -a.d;
        kc = -c.d;
      }
      default -> {
        ka = a.lastStart - a.a0;
        kc = c.lastStart - c.a0;
      }
    }
    return ka < kc || (ka == kc && a.made < c.made);
  }

  /**
   * Puts the lifted fills back in {@link #packOrder} by {@code rule}, then the candidates in
   * priority order; records where each went ({@link #packWin}, {@link #candWin}) and takes it all
   * back again. The candidates' welfare, or -1 when a fill found no place or the work ran out.
   */
  private long arrange(int rule, long ep) {
    final BidStore b = bids;
    int placed = 0;
    boolean ok = true;
    for (; placed < packFills; placed++) {
      int j = packOrder[placed];
      Fill f = fills.get(packFill[j]);
      if (!spot(fillMask[j], f.a0, f.lastStart, f.d, f.nodes, rule) || packLeft < 0) {
        ok = false;
        break;
      }
      spotWin.take(ep, spotStart, spotStart + f.d, f.nodes);
      packWin[j] = spotWin;
      packStart[j] = spotStart;
    }
    long welfare = 0;
    int taken = 0;
    for (; ok && taken < candCount; taken++) {
      int i = cand[taken];
      int s = failSlot[i];
      int d = b.duration[s];
      candWin[taken] = null;
      int mask = candMask[taken];
      int most = Math.min(b.nodes[s], Math.max(pair[0].free.maxAll(), pair[1].free.maxAll()));
      for (int k = most; k >= b.minNodes[s]; k--) {
        if (spot(mask, failA0[i], failLast[i], d, k, rule)) {
          spotWin.take(ep, spotStart, spotStart + d, k);
          candWin[taken] = spotWin;
          candStart[taken] = spotStart;
          candNodes[taken] = k;
          welfare += b.limit[s] * k * spotWin.spec.gpusPerNode() * d;
          break;
        }
        if (packLeft < 0) {
          break;
        }
      }
      if (packLeft < 0) {
        ok = false;
      }
    }
    for (int q = 0; q < taken; q++) {
      if (candWin[q] != null) {
        int s = failSlot[cand[q]];
        candWin[q].give(ep, candStart[q], candStart[q] + b.duration[s], candNodes[q]);
      }
    }
    for (int q = 0; q < placed; q++) {
      int j = packOrder[q];
      Fill f = fills.get(packFill[j]);
      packWin[j].give(ep, packStart[j], packStart[j] + f.d, f.nodes);
    }
    return ok ? welfare : -1;
  }

  /** How {@code rule} ranks a place: lower first (see {@link #spot}). */
  private long score(WindowCapacity w, int t, int d, int k, int rule) {
    if (rule == 0) {
      return t + w.start;
    }
    if (rule == 1) {
      return -(t + w.start);
    }
    long left = 0;
    for (int u = t; u < t + d; u++) {
      left += w.free.get(u) - k;
    }
    boolean wallBefore = t == 0 || w.free.get(t - 1) < w.free.get(t);
    boolean wallAfter = t + d == w.span() || w.free.get(t + d) < w.free.get(t + d - 1);
    packLeft -= d >> 3;
    return left * 4 + (wallBefore ? 0 : 2) + (wallAfter ? 0 : 2);
  }

  /**
   * A place in the pair for a lifted fill or an open bid: a window of the pair in {@code mask}
   * (those its bid may use), a start in {@code [a0, lastStart]} where {@code k} nodes are free for
   * {@code d} slots, chosen by {@code rule} (0: the earliest start, 1: the latest, 2: the least
   * free capacity left beside it in the slots it takes, then touching a wall or a lease on either
   * side); on ties the first window of the pair, then the earlier start. Sets {@link #spotWin} and
   * {@link #spotStart}.
   */
  private boolean spot(int mask, int a0, int lastStart, int d, int k, int rule) {
    spotWin = null;
    long bestScore = Long.MAX_VALUE;
    for (int p = 0; p < 2; p++) {
      WindowCapacity w = pair[p];
      if (--packLeft < 0) {
        return false;
      }
      if ((mask & (1 << p)) == 0) {
        continue;
      }
      int from = Math.max(a0, w.start) - w.start;
      int last = Math.min(lastStart, w.end - d) - w.start;
      if (from > last || w.free.maxAll() < k) {
        continue;
      }
      int t = w.free.earliestRun(from, last, d, k);
      while (t >= 0) {
        long score = score(w, t, d, k, rule);
        if (score < bestScore) {
          bestScore = score;
          spotWin = w;
          spotStart = t + w.start;
        }
        if (rule == 0 || --packLeft < 0) {
          break;
        }
        t = t < last ? w.free.earliestRun(t + 1, last, d, k) : -1;
      }
      if (packLeft < 0) {
        return false;
      }
    }
    return spotWin != null;
  }

  // ---------------------------------------------------------------- snapshot

  /** A canonical byte image of the book: equal books give equal bytes. */
  public byte[] snapshot() {
    List<BidSpec> requeue = new ArrayList<>(requeueSpecs.values());
    requeue.sort(Comparator.comparingLong(BidSpec::id));
    return BookCodec.write(this, bids, windowsById(), requeue, gains, gainWindows, gainCount);
  }

  /**
   * An independent book equal to this one: the same snapshot, and the same results from every
   * operation that follows. Changes to either never reach the other. A market takes one at an
   * epoch's cut and clears it on another thread while this book keeps answering.
   */
  public OrderBook copy() {
    return new OrderBook(this, repair, repack);
  }

  /**
   * {@link #copy()}, with the repair pass on or off in the copy: the same book cleared with and
   * without the pass, side by side (the what-if comparison and the quality tests).
   */
  public OrderBook copy(boolean withRepair) {
    return new OrderBook(this, withRepair, false);
  }

  /**
   * {@link #copy()}, with the repair pass and its re-pack phase on or off in the copy ({@code
   * withRepack} needs {@code withRepair}).
   */
  public OrderBook copy(boolean withRepair, boolean withRepack) {
    return new OrderBook(this, withRepair, withRepack);
  }

  /**
   * {@link #copy()} made in {@code spare}, a book nobody uses any more, reusing its arrays: the
   * same snapshot, and the same results from every operation that follows, as a fresh copy. A
   * market clears a copy of its book every epoch and keeps the book that copy replaced as the next
   * epoch's spare, so that an epoch does not allocate (and the collector does not carry) a whole
   * book. Returns {@code spare}, or a fresh copy when {@code spare} is null, this book, or of
   * another clock, pricing rule or repair setting. {@code spare} must not be read or changed by
   * anyone else from here on.
   */
  public OrderBook copyInto(OrderBook spare) {
    if (spare == null
        || spare == this
        || !spare.clock.equals(clock)
        || spare.pricing != pricing
        || spare.repair != repair
        || spare.repack != repack) {
      return copy();
    }
    spare.bids.copyFrom(bids);
    // a window the spare still holds is copied into (its arrays reused), one it lacks is copied
    spare.windows.values().removeIf(w -> windows.get(w.id()) == null);
    for (WindowCapacity w : windows.values()) {
      WindowCapacity mine = spare.windows.get(w.id());
      if (mine != null && mine.spec == w.spec) {
        mine.copyFrom(w);
      } else {
        spare.windows.put(w.id(), new WindowCapacity(w));
      }
    }
    spare.requeueSpecs.clear();
    spare.copyRestFrom(this);
    // what a fresh copy starts without: the order by start and the epoch's gained windows are
    // rebuilt at the next clear, the slot index is built again when that clear needs it
    spare.byStart = new WindowCapacity[0];
    spare.gainedCount = 0;
    spare.slotsBuilt = false;
    return spare;
  }

  /**
   * A deep copy of {@code o}, sharing nothing mutable: the bid arrays, windows (capacity, free
   * profile, leases), requeue specs, gains and counters are copied; caches and scratch start empty
   * and are rebuilt when used. Reads {@code o} only.
   */
  private OrderBook(OrderBook o, boolean repair, boolean repack) {
    requirePass(repair, repack);
    this.clock = o.clock;
    this.pricing = o.pricing;
    this.repair = repair;
    this.repack = repack;
    this.bids = new BidStore(o.bids);
    for (WindowCapacity w : o.windows.values()) {
      windows.put(w.id(), new WindowCapacity(w));
    }
    copyRestFrom(o);
  }

  /** Copies everything but the bids and the windows from {@code o} into this book. */
  private void copyRestFrom(OrderBook o) {
    this.windowsChanged = true; // the order by start is rebuilt from these windows
    o.requeueSpecs.forEach(this.requeueSpecs::put);
    this.gains = o.gains.clone();
    this.gainWindows = o.gainWindows.clone();
    this.gainCount = o.gainCount;
    this.seq = o.seq;
    this.leaseSeq = o.leaseSeq;
    this.epoch = o.epoch;
    this.nowSlot = o.nowSlot;
    this.touched = o.touched;
    this.earliestExpiry = o.earliestExpiry;
  }

  /** Rebuilds a book from {@link #snapshot()}'s bytes. */
  public static OrderBook restore(byte[] image) {
    return BookCodec.read(image);
  }

  List<WindowCapacity> windowsById() {
    List<WindowCapacity> list = new ArrayList<>(windows.values());
    list.sort(Comparator.comparingLong(WindowCapacity::id));
    return list;
  }

  long seq() {
    return seq;
  }

  long leaseSeq() {
    return leaseSeq;
  }

  int nowSlot() {
    return nowSlot;
  }

  void restoreCounters(long seq, long leaseSeq, long epoch, int nowSlot) {
    this.seq = seq;
    this.leaseSeq = leaseSeq;
    this.epoch = epoch;
    this.nowSlot = nowSlot;
  }

  void restoreWindow(WindowCapacity w) {
    windows.put(w.id(), w);
    windowsChanged = true;
  }

  void restoreRequeueSpec(BidSpec spec) {
    requeueSpecs.put(spec.id(), spec);
  }

  void restoreGain(int from, int to, long windowId) {
    gain(from, to, windowId);
  }

  BidStore store() {
    return bids;
  }
}
