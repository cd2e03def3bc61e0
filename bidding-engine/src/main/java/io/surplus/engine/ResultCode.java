package io.surplus.engine;

/** The outcome of a book operation; anything but {@link #OK} left the book unchanged. */
public enum ResultCode {
  OK,
  DUPLICATE_ID,
  UNKNOWN_BID,
  UNKNOWN_WINDOW,
  /** The bid or window ends at or before the current slot. */
  IN_THE_PAST,
  /** The bid or window reaches past the horizon. */
  BEYOND_HORIZON,
  /** The bid cannot fit its duration between now and its latest end. */
  TOO_LATE_TO_FIT,
  /** An amendment that would raise nodes, or a new end that is not later. */
  INVALID_AMENDMENT,
  /** A planned revocation that gives less notice than the window promised. */
  NOTICE_VIOLATION,
  /** A revocation that removes nothing or names nodes the window does not have. */
  INVALID_REVOCATION
}
