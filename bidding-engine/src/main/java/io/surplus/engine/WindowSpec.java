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

  /** The largest {@link #poolKey()}: keys have 24 bits. */
  public static final int MAX_POOL_KEY = 0xFF_FFFF;

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

  /**
   * The public key of this window's pool: a 24-bit hash of provider and pool, the same for all the
   * pool's windows and on every node. The API writes it as {@code pool-xxxxxx} (six hex digits); a
   * bid names the pools it avoids by it. Distinct pools may share a key (about one pair in 16
   * million): a bid avoiding one then avoids both.
   */
  public int poolKey() {
    return poolKey(provider, pool);
  }

  /** {@link #poolKey()} of pool {@code pool} of provider {@code provider}. */
  public static int poolKey(long provider, int pool) {
    long h = provider * 0x9E37_79B9_7F4A_7C15L + pool;
    h = (h ^ (h >>> 33)) * 0xFF51_AFD7_ED55_8CCDL;
    h = (h ^ (h >>> 33)) * 0xC4CE_B9FE_1A85_EC53L;
    h ^= h >>> 33;
    return (int) (h & MAX_POOL_KEY);
  }
}
