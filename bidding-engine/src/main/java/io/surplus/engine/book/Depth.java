package io.surplus.engine.book;

import java.util.List;

/**
 * The anonymous, aggregated book of one market: open bids grouped by limit price (highest first)
 * and windows grouped by reserve price (lowest first). Levels carry no bid, account or window ids.
 *
 * @param bids demand levels, limit price descending
 * @param windows supply levels, reserve price ascending; nodes are the free nodes at {@code
 *     nowSlot}, node-slots the free capacity from {@code nowSlot} to each window's end
 */
public record Depth(int nowSlot, List<BidLevel> bids, List<WindowLevel> windows) {

  /** Open bids at one limit price: their count and the nodes they ask for. */
  public record BidLevel(long limitPrice, int bids, long nodes) {}

  /** Windows at one reserve price: their count, free nodes now and free node-slots ahead. */
  public record WindowLevel(long reservePrice, int windows, long freeNodes, long freeNodeSlots) {}
}
