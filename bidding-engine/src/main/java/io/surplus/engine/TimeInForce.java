package io.surplus.engine;

/** How long an unfilled bid stays in the book. */
public enum TimeInForce {
  /** Good till cancelled, or until its {@code expiresAt}. */
  GTC,
  /** Immediate or cancel: takes part in one epoch, then leaves the book filled or not. */
  IOC
}
