package io.surplus.engine;

import java.util.Arrays;
import java.util.List;

/**
 * Demand: up to {@code nodes} nodes (at least {@code minNodes}) for {@code durationSlots}
 * consecutive slots, starting no earlier than {@code earliestStart} and ending no later than {@code
 * latestEnd}, at no more than {@code limitPrice} micro-dollars per GPU-hour.
 *
 * @param regionMask bit {@code r} set allows region id {@code r}; {@link #ANY_REGION} allows all
 * @param expiresAtMillis epoch millis after which a GTC bid leaves the book; {@link #NO_EXPIRY} for
 *     none
 * @param requeue whether a preempted lease of this bid sends the bid back into the book for the
 *     time it lost
 * @param minConfidencePpm the least {@link WindowSpec#confidencePpm} a window must have to hold
 *     this bid; 0 takes any window
 * @param avoidPools pool keys ({@link WindowSpec#poolKey()}) whose windows never hold this bid:
 *     ascending, distinct, at most {@link #MAX_AVOID_POOLS}; null is read as none (events written
 *     before the field)
 * @param requeueAvoidsPool whether the bid, requeued after a cut, also avoids the pool that cut it
 *     (false in data written before the field, so old journals replay as they cleared)
 */
public record BidSpec(
    long id,
    long account,
    int nodes,
    int minNodes,
    int durationSlots,
    int earliestStart,
    int latestEnd,
    long limitPrice,
    int minNoticeSeconds,
    long regionMask,
    TimeInForce timeInForce,
    long expiresAtMillis,
    boolean requeue,
    int minConfidencePpm,
    List<Integer> avoidPools,
    boolean requeueAvoidsPool) {

  public static final long ANY_REGION = -1L;

  /** The most pools one bid may avoid. */
  public static final int MAX_AVOID_POOLS = 16;

  public static final long NO_EXPIRY = Long.MAX_VALUE;

  /** The largest bid: a whole 1,024-node pod. */
  public static final int MAX_NODES = 1024;

  public BidSpec {
    if (id <= 0) {
      throw new IllegalArgumentException("id must be > 0: id=" + id);
    }
    if (nodes <= 0 || nodes > MAX_NODES) {
      throw new IllegalArgumentException("nodes must be in 1.." + MAX_NODES + ": nodes=" + nodes);
    }
    if (minNodes <= 0 || minNodes > nodes) {
      throw new IllegalArgumentException(
          "minNodes must be in 1..nodes: minNodes=" + minNodes + ", nodes=" + nodes);
    }
    if (durationSlots <= 0) {
      throw new IllegalArgumentException(
          "durationSlots must be > 0: durationSlots=" + durationSlots);
    }
    if (latestEnd <= earliestStart) {
      throw new IllegalArgumentException(
          "latestEnd must be after earliestStart: earliestStart="
              + earliestStart
              + ", latestEnd="
              + latestEnd);
    }
    if (durationSlots > latestEnd - earliestStart) {
      throw new IllegalArgumentException(
          "durationSlots must fit between earliestStart and latestEnd: durationSlots="
              + durationSlots
              + ", window="
              + (latestEnd - earliestStart));
    }
    if (limitPrice <= 0 || limitPrice > Price.MAX_MICROS) {
      throw new IllegalArgumentException(
          "limitPrice must be in 1.."
              + Price.MAX_MICROS
              + " micro-dollars: limitPrice="
              + limitPrice);
    }
    if (minNoticeSeconds < 0) {
      throw new IllegalArgumentException(
          "minNoticeSeconds must be >= 0: minNoticeSeconds=" + minNoticeSeconds);
    }
    if (regionMask == 0) {
      throw new IllegalArgumentException("regionMask must allow at least one region: regionMask=0");
    }
    if (timeInForce == null) {
      throw new IllegalArgumentException("timeInForce must be set: timeInForce=null");
    }
    if (minConfidencePpm < 0 || minConfidencePpm > 1_000_000) {
      throw new IllegalArgumentException(
          "minConfidencePpm must be in 0..1000000: minConfidencePpm=" + minConfidencePpm);
    }
    avoidPools = pools(avoidPools);
  }

  /** {@code pools} ascending and immutable, or a description of the rule it breaks. */
  private static List<Integer> pools(List<Integer> pools) {
    if (pools == null || pools.isEmpty()) {
      return List.of();
    }
    if (pools.size() > MAX_AVOID_POOLS) {
      throw new IllegalArgumentException(
          "avoidPools must hold at most " + MAX_AVOID_POOLS + " pools: avoidPools=" + pools);
    }
    int[] sorted = new int[pools.size()];
    for (int i = 0; i < sorted.length; i++) {
      Integer p = pools.get(i);
      if (p == null || p < 0 || p > WindowSpec.MAX_POOL_KEY) {
        throw new IllegalArgumentException(
            "avoidPools must hold pool keys in 0.." + WindowSpec.MAX_POOL_KEY + ": pool=" + p);
      }
      sorted[i] = p;
    }
    Arrays.sort(sorted);
    for (int i = 1; i < sorted.length; i++) {
      if (sorted[i] == sorted[i - 1]) {
        throw new IllegalArgumentException("avoidPools must not repeat a pool: pool=" + sorted[i]);
      }
    }
    return Arrays.stream(sorted).boxed().toList();
  }

  /** Whether this bid narrows the windows it takes by confidence or pool. */
  public boolean steered() {
    return minConfidencePpm > 0 || !avoidPools.isEmpty();
  }

  /** Whether {@code w} may hold this bid as far as confidence and pool go. */
  public boolean accepts(WindowSpec w) {
    return w.confidencePpm() >= minConfidencePpm && !avoidPools.contains(w.poolKey());
  }

  /** A GTC, any-region, no-notice, non-requeue bid: the common case in tests and simulations. */
  public static BidSpec gtc(
      long id,
      long account,
      int nodes,
      int minNodes,
      int durationSlots,
      int earliestStart,
      int latestEnd,
      long limitPrice) {
    return new BidSpec(
        id,
        account,
        nodes,
        minNodes,
        durationSlots,
        earliestStart,
        latestEnd,
        limitPrice,
        0,
        ANY_REGION,
        TimeInForce.GTC,
        NO_EXPIRY,
        false,
        0,
        List.of(),
        false);
  }

  public BidSpec withId(long newId) {
    return withIdAndAccount(newId, account);
  }

  /** The same bid under another id and account (the account's, once it has reserved it). */
  public BidSpec withIdAndAccount(long newId, long newAccount) {
    return copy(
        newId,
        newAccount,
        latestEnd,
        limitPrice,
        timeInForce,
        expiresAtMillis,
        minConfidencePpm,
        avoidPools,
        requeueAvoidsPool);
  }

  /** The same bid at another limit price. */
  public BidSpec withLimitPrice(long newLimitPrice) {
    return copy(
        id,
        account,
        latestEnd,
        newLimitPrice,
        timeInForce,
        expiresAtMillis,
        minConfidencePpm,
        avoidPools,
        requeueAvoidsPool);
  }

  /** The same bid with another latest end. */
  public BidSpec withLatestEnd(int newLatestEnd) {
    return copy(
        id,
        account,
        newLatestEnd,
        limitPrice,
        timeInForce,
        expiresAtMillis,
        minConfidencePpm,
        avoidPools,
        requeueAvoidsPool);
  }

  public BidSpec withTimeInForce(TimeInForce tif, long newExpiresAtMillis) {
    return copy(
        id,
        account,
        latestEnd,
        limitPrice,
        tif,
        newExpiresAtMillis,
        minConfidencePpm,
        avoidPools,
        requeueAvoidsPool);
  }

  /** The same bid taking only windows of at least {@code ppm} confidence outside {@code pools}. */
  public BidSpec withSteering(int ppm, List<Integer> pools, boolean avoidCutPool) {
    return copy(
        id, account, latestEnd, limitPrice, timeInForce, expiresAtMillis, ppm, pools, avoidCutPool);
  }

  /**
   * The same bid also avoiding pool {@code poolKey}; unchanged when it avoids it already or avoids
   * {@link #MAX_AVOID_POOLS} pools.
   */
  public BidSpec withAvoidedPool(int poolKey) {
    if (avoidPools.contains(poolKey) || avoidPools.size() >= MAX_AVOID_POOLS) {
      return this;
    }
    Integer[] more = avoidPools.toArray(new Integer[avoidPools.size() + 1]);
    more[more.length - 1] = poolKey;
    return withSteering(minConfidencePpm, List.of(more), requeueAvoidsPool);
  }

  /** This bid with the fields the withers change set anew (checked again by the constructor). */
  private BidSpec copy(
      long newId,
      long newAccount,
      int newLatestEnd,
      long newLimitPrice,
      TimeInForce newTimeInForce,
      long newExpiresAtMillis,
      int newMinConfidencePpm,
      List<Integer> newAvoidPools,
      boolean newRequeueAvoidsPool) {
    return new BidSpec(
        newId,
        newAccount,
        nodes,
        minNodes,
        durationSlots,
        earliestStart,
        newLatestEnd,
        newLimitPrice,
        minNoticeSeconds,
        regionMask,
        newTimeInForce,
        newExpiresAtMillis,
        requeue,
        newMinConfidencePpm,
        newAvoidPools,
        newRequeueAvoidsPool);
  }
}
