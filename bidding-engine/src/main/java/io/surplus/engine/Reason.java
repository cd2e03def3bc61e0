package io.surplus.engine;

/**
 * Why a bid is still open after the last epoch that searched for it. Ordinals are stored in book
 * snapshots: new reasons go at the end.
 */
public enum Reason {
  /** Not searched yet. */
  NONE,
  /** Eligible windows exist but their reserve is above the bid's limit. */
  BELOW_RESERVE,
  /** No eligible window has enough free nodes for the duration, even pooled together. */
  NO_CAPACITY_IN_WINDOW,
  /** Enough nodes exist in total for the duration, but not in one window. */
  FRAGMENTED,
  /** Every window in range promises less notice than the bid asks for. */
  NOTICE_TOO_SHORT,
  /** The capacity was free when the epoch began, and higher-priority bids took it. */
  OUTBID,
  /** No window in range lies in a region the bid allows. */
  REGION,
  /** Every window in range and region lies in a pool the bid avoids. */
  AVOIDED_POOL,
  /**
   * Every window in range and region, outside the pools the bid avoids, has a confidence below the
   * bid's minimum.
   */
  BELOW_MIN_CONFIDENCE;

  private static final Reason[] VALUES = values();

  public static Reason of(int ordinal) {
    return VALUES[ordinal];
  }
}
