package io.surplus.feed.report;

import io.surplus.engine.RevocationKind;
import io.surplus.feed.sim.SimEvent.Cause;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The earnings report's books: what each pool offered, sold, lost to revocations and earned, per
 * UTC day of the simulated span, on the market's slot grid. Pure arithmetic on longs: it knows
 * nothing of the engine or the simulator, only of slots, nodes and prices it is told about.
 *
 * <p>Quantities are node-seconds (a slot of {@code n} nodes is {@code n x slotSeconds}); revenue is
 * kept as {@code price x GPU-seconds}, micro-dollars per GPU-hour times GPU-seconds, which is
 * micro-dollars times 3,600 and exact: dollars come only at rendering ({@link #dollars}). Anything
 * outside {@code [startSlot, startSlot + days x slotsPerDay)} is left out.
 *
 * <p>What it promises: sold is counted from leases as they finally stand (after cuts), offered from
 * windows as they finally stand (after revocations), so {@code idle = offered - sold} per pool, day
 * and cause; a lease is sold on its window's pool and cause.
 */
public final class Ledger {

  /** The window causes that offer capacity, in report order. */
  public static final List<Cause> OFFER_CAUSES =
      List.of(Cause.CHECKPOINT_EVAL_GAP, Cause.STAGING, Cause.SPARES);

  private final int pools;
  private final int days;
  private final int slotSeconds;
  private final int slotsPerDay;
  private final int firstSlot;
  private final int endSlot;

  private final long[][] offered;
  private final long[][] sold;
  private final long[][] revokedPlanned;
  private final long[][] revokedEmergency;
  private final long[][] revenue;
  private final long[][] credit;
  private final long[][] soldGpuSeconds;
  private final long[][] offeredByCause;
  private final long[][] soldByCause;
  private final long[][] preemptions;
  private final long[][] preemptedNodes;
  private final List<List<Long>> noticeGiven = List.of(new ArrayList<>(), new ArrayList<>());
  private final long[] noticePromisedMin = {Long.MAX_VALUE, Long.MAX_VALUE};
  private final long[] shortfall = new long[2];

  /**
   * @param pools number of pools, indexed from 0
   * @param firstSlot the slot the span starts at, on a day boundary
   * @param days days in the span
   * @param slotSeconds slot length; must divide a day
   */
  public Ledger(int pools, int firstSlot, int days, int slotSeconds) {
    if (pools <= 0 || days <= 0) {
      throw new IllegalArgumentException("pools and days must be > 0: pools=" + pools);
    }
    if (slotSeconds <= 0 || 86_400 % slotSeconds != 0) {
      throw new IllegalArgumentException("slotSeconds must divide a day: " + slotSeconds);
    }
    this.pools = pools;
    this.days = days;
    this.slotSeconds = slotSeconds;
    this.slotsPerDay = 86_400 / slotSeconds;
    if (Math.floorMod(firstSlot, slotsPerDay) != 0) {
      throw new IllegalArgumentException("firstSlot must start a UTC day: firstSlot=" + firstSlot);
    }
    this.firstSlot = firstSlot;
    this.endSlot = firstSlot + days * slotsPerDay;
    offered = new long[pools][days];
    sold = new long[pools][days];
    revokedPlanned = new long[pools][days];
    revokedEmergency = new long[pools][days];
    revenue = new long[pools][days];
    credit = new long[pools][days];
    soldGpuSeconds = new long[pools][days];
    offeredByCause = new long[pools][Cause.values().length];
    soldByCause = new long[pools][Cause.values().length];
    preemptions = new long[pools][2];
    preemptedNodes = new long[pools][2];
  }

  // ---------------------------------------------------------------- what happened

  /**
   * A window as it finally stands: {@code nodesPerSlot[i]} nodes offered in slot {@code startSlot +
   * i}.
   */
  public void offered(int pool, Cause cause, int startSlot, int[] nodesPerSlot) {
    for (int i = 0; i < nodesPerSlot.length; i++) {
      int slot = startSlot + i;
      if (inSpan(slot)) {
        long ns = (long) nodesPerSlot[i] * slotSeconds;
        offered[pool][day(slot)] += ns;
        offeredByCause[pool][cause.ordinal()] += ns;
      }
    }
  }

  /**
   * A lease as it finally stands: {@code nodes} nodes of a window of {@code pool} and {@code cause}
   * over {@code [startSlot, endSlot)} at {@code price} micro-dollars per GPU-hour.
   */
  public void sold(
      int pool, Cause cause, int startSlot, int endSlot, int nodes, int gpusPerNode, long price) {
    for (int slot = Math.max(startSlot, firstSlot);
        slot < Math.min(endSlot, this.endSlot);
        slot++) {
      int d = day(slot);
      long ns = (long) nodes * slotSeconds;
      long gpuSeconds = ns * gpusPerNode;
      sold[pool][d] += ns;
      soldByCause[pool][cause.ordinal()] += ns;
      soldGpuSeconds[pool][d] += gpuSeconds;
      revenue[pool][d] = Math.addExact(revenue[pool][d], Math.multiplyExact(price, gpuSeconds));
    }
  }

  /**
   * Slots {@code [fromSlot, toSlot)} of {@code nodes} leased nodes that a revocation of {@code
   * kind} took back from their lease.
   */
  public void revoked(int pool, RevocationKind kind, int fromSlot, int toSlot, int nodes) {
    long[][] into = kind == RevocationKind.PLANNED ? revokedPlanned : revokedEmergency;
    for (int slot = Math.max(fromSlot, firstSlot); slot < Math.min(toSlot, endSlot); slot++) {
      into[pool][day(slot)] += (long) nodes * slotSeconds;
    }
  }

  /**
   * A lease preempted: {@code noticeGivenSeconds} between the revocation and its preemption,
   * against {@code noticePromisedSeconds}; an emergency's {@code shortfallSeconds} of notice owed
   * and not given, of which {@code creditedSeconds} of held time the bidder is not charged for, at
   * {@code price} on {@code nodes x gpusPerNode} GPUs, credited on the day of {@code slot}.
   */
  public void preempted(
      int pool,
      RevocationKind kind,
      int slot,
      int nodes,
      int gpusPerNode,
      long price,
      long noticeGivenSeconds,
      int noticePromisedSeconds,
      long shortfallSeconds,
      long creditedSeconds) {
    if (!inSpan(slot)) {
      return;
    }
    int k = kind.ordinal();
    preemptions[pool][k]++;
    preemptedNodes[pool][k] += nodes;
    noticeGiven.get(k).add(noticeGivenSeconds);
    noticePromisedMin[k] = Math.min(noticePromisedMin[k], noticePromisedSeconds);
    shortfall[k] += shortfallSeconds;
    long gpuSeconds = Math.multiplyExact((long) nodes * gpusPerNode, creditedSeconds);
    credit[pool][day(slot)] =
        Math.addExact(credit[pool][day(slot)], Math.multiplyExact(price, gpuSeconds));
  }

  // ---------------------------------------------------------------- figures

  public int pools() {
    return pools;
  }

  public int days() {
    return days;
  }

  public int slotSeconds() {
    return slotSeconds;
  }

  public long offeredNodeSeconds(int pool, int day) {
    return offered[pool][day];
  }

  public long soldNodeSeconds(int pool, int day) {
    return sold[pool][day];
  }

  /** Offered and not sold. */
  public long idleNodeSeconds(int pool, int day) {
    return offered[pool][day] - sold[pool][day];
  }

  public long revokedNodeSeconds(int pool, int day, RevocationKind kind) {
    return (kind == RevocationKind.PLANNED ? revokedPlanned : revokedEmergency)[pool][day];
  }

  /** Revenue before notice credits, in micro-dollars times 3,600 (price x GPU-seconds). */
  public long grossRevenue(int pool, int day) {
    return revenue[pool][day];
  }

  /** Emergency notice credits, in micro-dollars times 3,600. */
  public long noticeCredit(int pool, int day) {
    return credit[pool][day];
  }

  public long soldGpuSeconds(int pool, int day) {
    return soldGpuSeconds[pool][day];
  }

  public long offeredNodeSeconds(int pool) {
    return sum(offered[pool]);
  }

  public long soldNodeSeconds(int pool) {
    return sum(sold[pool]);
  }

  public long idleNodeSeconds(int pool) {
    return offeredNodeSeconds(pool) - soldNodeSeconds(pool);
  }

  public long revokedNodeSeconds(int pool, RevocationKind kind) {
    return sum((kind == RevocationKind.PLANNED ? revokedPlanned : revokedEmergency)[pool]);
  }

  public long grossRevenue(int pool) {
    return sum(revenue[pool]);
  }

  public long noticeCredit(int pool) {
    return sum(credit[pool]);
  }

  public long soldGpuSeconds(int pool) {
    return sum(soldGpuSeconds[pool]);
  }

  /** Offered and unsold node-seconds of {@code pool}'s windows opened for {@code cause}. */
  public long idleNodeSeconds(int pool, Cause cause) {
    return offeredByCause[pool][cause.ordinal()] - soldByCause[pool][cause.ordinal()];
  }

  public long offeredNodeSeconds(int pool, Cause cause) {
    return offeredByCause[pool][cause.ordinal()];
  }

  public long preemptions(int pool, RevocationKind kind) {
    return preemptions[pool][kind.ordinal()];
  }

  public long preemptedNodes(int pool, RevocationKind kind) {
    return preemptedNodes[pool][kind.ordinal()];
  }

  /** Notice given to each preempted lease of {@code kind}, in seconds, sorted. */
  public long[] noticeGiven(RevocationKind kind) {
    long[] v = noticeGiven.get(kind.ordinal()).stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(v);
    return v;
  }

  /** The least notice any preempted lease's window of {@code kind} promised; -1 for none. */
  public long noticePromisedMin(RevocationKind kind) {
    long v = noticePromisedMin[kind.ordinal()];
    return v == Long.MAX_VALUE ? -1 : v;
  }

  /** Notice owed and not given over all preemptions of {@code kind}, in seconds. */
  public long noticeShortfallSeconds(RevocationKind kind) {
    return shortfall[kind.ordinal()];
  }

  /**
   * The volume-weighted price of {@code revenue} over {@code gpuSeconds}, micro-dollars per
   * GPU-hour rounded half up; 0 when nothing sold.
   */
  public static long averagePrice(long revenue, long gpuSeconds) {
    return gpuSeconds == 0 ? 0 : (revenue + gpuSeconds / 2) / gpuSeconds;
  }

  /** Revenue kept as micro-dollars times 3,600, in dollars: exact to the cent, half even. */
  public static java.math.BigDecimal dollars(long revenue) {
    return java.math.BigDecimal.valueOf(revenue)
        .divide(
            java.math.BigDecimal.valueOf(3_600L * 1_000_000L), 2, java.math.RoundingMode.HALF_EVEN);
  }

  private boolean inSpan(int slot) {
    return slot >= firstSlot && slot < endSlot;
  }

  private int day(int slot) {
    return (slot - firstSlot) / slotsPerDay;
  }

  private static long sum(long[] v) {
    long s = 0;
    for (long x : v) {
      s = Math.addExact(s, x);
    }
    return s;
  }
}
