package io.surplus.engine;

/** What a lease pays. */
public enum PricingRule {
  /**
   * Uniform price: the lowest limit among the bids filled in the epoch, raised to the window's
   * reserve where that is higher.
   */
  PAY_AS_CLEAR,
  /** Each lease pays its own bid's limit. */
  PAY_AS_BID
}
