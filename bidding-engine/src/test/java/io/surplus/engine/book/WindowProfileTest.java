package io.surplus.engine.book;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.surplus.engine.BidSpec;
import io.surplus.engine.PricingRule;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The windows of a book as a timeline: runs of equal offered and free nodes from now on. */
class WindowProfileTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final long NOW = Instant.parse("2026-11-02T00:00:00Z").toEpochMilli();
  static final int S = CLOCK.slotAtOrAfter(NOW);

  final OrderBook book = new OrderBook(CLOCK, PricingRule.PAY_AS_CLEAR);

  static WindowSpec window(long id, int nodes, int start, int end) {
    return new WindowSpec(id, 7, 3, 0, nodes, 8, start, end, 1_000_000, 3600, 1_000_000);
  }

  @Test
  void shouldDescribeEachLiveWindowAsRunsOfEqualOfferedAndFreeNodesInStartOrder() {
    book.offer(window(2, 8, S + 2, S + 10), NOW);
    book.offer(window(1, 4, S, S + 4), NOW);
    // 3 nodes for 4 slots from S + 4 (the earliest start in the big window with 3 free)
    book.place(BidSpec.gtc(1, 100, 3, 3, 4, S + 4, S + 10, 2_000_000), NOW);
    assertEquals(1, book.clear(NOW).leases().size());

    List<WindowProfile> p = book.windowProfiles(NOW);
    assertEquals(List.of(1L, 2L), p.stream().map(w -> w.spec().id()).toList());
    assertEquals(List.of(new WindowProfile.Run(S, S + 4, 4, 4)), p.get(0).runs());
    assertEquals(
        List.of(
            new WindowProfile.Run(S + 2, S + 4, 8, 8),
            new WindowProfile.Run(S + 4, S + 8, 8, 5),
            new WindowProfile.Run(S + 8, S + 10, 8, 8)),
        p.get(1).runs());
    assertEquals(3, p.get(1).runs().get(1).allocatedNodes());
  }

  @Test
  void shouldStartAtTheCurrentSlotShowRevokedCapacityAndFollowAnExtension() {
    book.offer(window(1, 8, S, S + 6), NOW);
    book.extend(1, S + 8, NOW);
    long later = CLOCK.startMillis(S + 2);
    book.revoke(1, 5, CLOCK.startMillis(S + 4), RevocationKind.EMERGENCY, later);

    List<WindowProfile> p = book.windowProfiles(later);
    assertEquals(1, p.size());
    assertEquals(S + 8, p.get(0).endSlot());
    assertEquals(S + 6, p.get(0).spec().endSlot());
    assertEquals(
        List.of(
            new WindowProfile.Run(S + 2, S + 4, 8, 8), new WindowProfile.Run(S + 4, S + 8, 5, 5)),
        p.get(0).runs());
    // a window that has ended is not on the timeline
    assertEquals(List.of(), book.windowProfiles(CLOCK.startMillis(S + 8)));
  }
}
