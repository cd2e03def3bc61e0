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

  public Lease withEnd(int newEnd) {
    return new Lease(
        id,
        bidId,
        account,
        windowId,
        nodes,
        gpusPerNode,
        startSlot,
        newEnd,
        price,
        limitPrice,
        epoch);
  }
}
