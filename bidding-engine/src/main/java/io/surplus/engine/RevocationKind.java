package io.surplus.engine;

/** Whether a reclaim keeps the window's notice promise. */
public enum RevocationKind {
  /** Scheduled: must give at least the window's {@code noticeSeconds}. */
  PLANNED,
  /** Hardware failure or similar: applies at once; bidders are not charged for the lost notice. */
  EMERGENCY
}
