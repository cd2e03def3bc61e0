package io.surplus.feed.drive;

import java.time.Instant;

/**
 * A snapshot of a {@link FeedDriver}'s counters.
 *
 * @param simulatedNow the simulated instant the driver has reached; {@code null} before start
 * @param lastApplied the last sequence number the service confirmed applied
 * @param eventsSent feed lines posted, resends included
 * @param eventsApplied this run's events the service confirmed applied, by reply or by position
 * @param duplicates lines the service skipped as already applied
 * @param eventsRejected events the service refused (422) and the driver dropped, with the later
 *     events of a window whose opening was refused
 * @param eventsSkipped events not sent because the driver fell so far behind that their window had
 *     ended
 * @param eventsPending events of the simulation not yet confirmed
 * @param lateRevocations planned revocations sent too late to keep their notice, sent as emergency
 * @param bidsPlaced bids the service accepted (201, or 200 for a replay)
 * @param bidsRejected bids the service refused (4xx); they are not retried
 * @param bidsSkipped bids not placed because the driver fell so far behind that they no longer fit
 *     before their latest end
 * @param errors failed requests: connection failures, timeouts, 5xx, 409 gaps, unexpected answers
 * @param finished whether every event and bid of the simulation has been dealt with
 * @param lastError the last error, or {@code null}
 */
public record DriverStats(
    Instant simulatedNow,
    long lastApplied,
    long eventsSent,
    long eventsApplied,
    long duplicates,
    long eventsRejected,
    long eventsSkipped,
    long eventsPending,
    long lateRevocations,
    long bidsPlaced,
    long bidsRejected,
    long bidsSkipped,
    long errors,
    boolean finished,
    String lastError) {

  /** One line for a console. */
  public String statusLine() {
    return String.format(
        "sim %s | feed position %d: sent %d, applied %d, duplicates %d, rejected %d, skipped %d,"
            + " late %d, pending %d | bids placed %d, rejected %d, skipped %d | errors %d%s",
        simulatedNow == null ? "-" : simulatedNow.toString(),
        lastApplied,
        eventsSent,
        eventsApplied,
        duplicates,
        eventsRejected,
        eventsSkipped,
        lateRevocations,
        eventsPending,
        bidsPlaced,
        bidsRejected,
        bidsSkipped,
        errors,
        finished ? " | finished" : "");
  }
}
