package io.surplus.engine;

/**
 * A fill: {@code nodes} nodes of one window for slots {@code [startSlot, endSlot)} to one bid, at
 * {@code price} micro-dollars per GPU-hour, made in epoch {@code epoch}.
 */
public record Lease(
    long id,
    long bidId,
    long account,
    long windowId,
    int nodes,
    int gpusPerNode,
    int startSlot,
    int endSlot,
    long price,
    long limitPrice,
    long epoch) {

  /** GPU-slots held: nodes x GPUs per node x slots. */
  public long gpuSlots() {
    return (long) nodes * gpusPerNode * (endSlot - startSlot);
  }

  /** The same lease ending at slot {@code newEnd}. */
  public Lease withEnd(int newEnd) {
    return copy(newEnd, price, epoch);
  }

  /** The same lease at {@code newPrice} micro-dollars per GPU-hour. */
  public Lease withPrice(long newPrice) {
    return copy(endSlot, newPrice, epoch);
  }

  /** The same lease as if made in epoch {@code newEpoch}. */
  public Lease withEpoch(long newEpoch) {
    return copy(endSlot, price, newEpoch);
  }

  /** This lease with the fields the withers change set anew. */
  private Lease copy(int newEnd, long newPrice, long newEpoch) {
    return new Lease(
        id,
        bidId,
        account,
        windowId,
        nodes,
        gpusPerNode,
        startSlot,
        newEnd,
        newPrice,
        limitPrice,
        newEpoch);
  }
}
