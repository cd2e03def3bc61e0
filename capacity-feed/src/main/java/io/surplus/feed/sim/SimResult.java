package io.surplus.feed.sim;

import java.util.List;

/**
 * What one simulation produced: the feed events in the order sent (by simulated time; per provider
 * in sequence order), the interruptions that happened, and where the fleet's node-time went.
 *
 * @param unexpectedInterruptions node failures
 * @param plannedInterruptions planned maintenance events
 * @param nodeSeconds node-seconds in the simulated span
 * @param trainingNodeSeconds node-seconds spent training or running evals
 * @param downNodeSeconds node-seconds under repair or maintenance
 * @param offeredNodeSeconds node-seconds inside offered windows (after revocations), within the
 *     span
 * @param windows every window opened, with its final end
 */
public record SimResult(
    SimConfig config,
    long seed,
    List<SimEvent> events,
    long unexpectedInterruptions,
    long plannedInterruptions,
    long nodeSeconds,
    long trainingNodeSeconds,
    long downNodeSeconds,
    long offeredNodeSeconds,
    List<WindowSummary> windows) {

  public SimResult {
    events = List.copyOf(events);
    windows = List.copyOf(windows);
  }

  /** Healthy node-seconds neither training nor offered: capacity nobody used. */
  public long idleNodeSeconds() {
    return nodeSeconds - trainingNodeSeconds - downNodeSeconds - offeredNodeSeconds;
  }

  /**
   * One window as it finally was.
   *
   * @param finalEndEpochSecond its end after any extension or early end
   */
  public record WindowSummary(
      String provider,
      String windowId,
      SimEvent.Cause cause,
      int nodes,
      long startEpochSecond,
      long finalEndEpochSecond) {

    public long lengthSeconds() {
      return finalEndEpochSecond - startEpochSecond;
    }
  }
}
