package io.surplus.feed.sim;

import io.surplus.feed.protocol.FeedEvent;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One feed event the simulated training scheduler sends, with the simulated instant it sends it at,
 * its provider (the pool), why it sends it, and which of the pool's nodes (0-based indices) it
 * concerns: the window's nodes for {@code window.opened}, the nodes taken back for a {@code
 * window.revoked} by nodes, none otherwise. The feed itself never names nodes; tests use them.
 */
public record SimEvent(
    Instant at, String provider, FeedEvent event, Cause cause, List<Integer> nodes) {

  /** Why the scheduler sent the event. */
  public enum Cause {
    /** window.opened: nodes idle during a checkpoint-and-eval gap of a run. */
    CHECKPOINT_EVAL_GAP,
    /** window.opened: nodes idle while the next job is staged. */
    STAGING,
    /** window.opened: hot spares idle while the job runs. */
    SPARES,
    /** window.extended: staging overran its estimate. */
    STAGING_OVERRAN,
    /** window.revoked planned: staging finished early, the next run starts. */
    STAGING_DONE_EARLY,
    /** window.revoked planned: the job calls in a spare to replace a failed or serviced node. */
    SPARE_CALLED_IN,
    /** window.revoked planned: nodes go to planned maintenance. */
    MAINTENANCE,
    /** window.revoked emergency: a node failed. */
    NODE_FAILURE
  }

  public SimEvent {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(event, "event");
    Objects.requireNonNull(cause, "cause");
    nodes = List.copyOf(nodes);
  }
}
