package io.surplus.engine;

/**
 * Supply: {@code nodes} identical nodes of one pool free over slots {@code [startSlot, endSlot)},
 * sold at no less than {@code reservePrice} micro-dollars per GPU-hour, with {@code noticeSeconds}
 * promised before any planned reclaim.
 *
 * @param region region id, {@code 0..63}, matched against a bid's region mask
 * @param confidencePpm the provider's probability, in parts per million, that the window survives
 *     to its end
 */
public record WindowSpec(
    long id,
    long provider,
    int pool,
    int region,
    int nodes,
    int gpusPerNode,
    int startSlot,
    int endSlot,
    long reservePrice,
    int noticeSeconds,
    int confidencePpm) {

  /** The largest window: 16,384 nodes. */
  public static final int MAX_NODES = 16_384;

  public WindowSpec {
    if (id <= 0) {
      throw new IllegalArgumentException("id must be > 0: id=" + id);
    }
    if (region < 0 || region > 63) {
      throw new IllegalArgumentException("region must be in 0..63: region=" + region);
    }
    if (nodes <= 0 || nodes > MAX_NODES) {
      throw new IllegalArgumentException("nodes must be in 1.." + MAX_NODES + ": nodes=" + nodes);
    }
    if (gpusPerNode <= 0 || gpusPerNode > 64) {
      throw new IllegalArgumentException(
          "gpusPerNode must be in 1..64: gpusPerNode=" + gpusPerNode);
    }
    if (endSlot <= startSlot) {
      throw new IllegalArgumentException(
          "endSlot must be after startSlot: startSlot=" + startSlot + ", endSlot=" + endSlot);
    }
    if (reservePrice <= 0 || reservePrice > Price.MAX_MICROS) {
      throw new IllegalArgumentException(
          "reservePrice must be in 1.."
              + Price.MAX_MICROS
              + " micro-dollars: reservePrice="
              + reservePrice);
    }
    if (noticeSeconds < 0) {
      throw new IllegalArgumentException(
          "noticeSeconds must be >= 0: noticeSeconds=" + noticeSeconds);
    }
    if (confidencePpm < 0 || confidencePpm > 1_000_000) {
      throw new IllegalArgumentException(
          "confidencePpm must be in 0..1000000: confidencePpm=" + confidencePpm);
    }
  }
}
