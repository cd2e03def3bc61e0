package io.surplus.engine.book;

import io.surplus.engine.WindowSpec;
import java.util.List;

/**
 * One window's capacity ahead, for a timeline: the window as offered, its current end (an extension
 * moves it), and from a given slot to that end the runs of consecutive slots in which the nodes it
 * still offers (after revocations) and the nodes still free (not leased) stay the same.
 *
 * @param endSlot the window's current end, which {@code spec.endSlot()} does not follow
 * @param runs back to back, from the first slot asked for (or the window's start) to {@code
 *     endSlot}
 */
public record WindowProfile(WindowSpec spec, int endSlot, List<Run> runs) {

  /** Slots {@code [fromSlot, toSlot)} in which the window offers and has free the same nodes. */
  public record Run(int fromSlot, int toSlot, int offeredNodes, int freeNodes) {

    /** Nodes leased in each slot of the run. */
    public int allocatedNodes() {
      return offeredNodes - freeNodes;
    }
  }
}
