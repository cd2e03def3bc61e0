package io.surplus.market.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The fence against writes after a long pause, on a clock the test moves. */
class PauseFenceTest {

  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final List<Long> fencedAfter = new ArrayList<>();
  boolean alone;
  final PauseFence fence =
      new PauseFence(Duration.ofSeconds(10), now::get, () -> alone, fencedAfter::add);

  void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void shouldKeepWritingThroughTicksAndPausesUpToTheLimit() {
    for (int i = 0; i < 50; i++) {
      advance(Duration.ofMillis(100));
      fence.tick();
      assertTrue(fence.mayWrite());
    }
    advance(Duration.ofSeconds(10)); // exactly the limit: not past it
    assertTrue(fence.mayWrite());
    fence.tick();
    assertTrue(fence.mayWrite());
    assertEquals(List.of(), fencedAfter);
  }

  @Test
  void shouldRefuseTheFirstWriteAfterALongPauseEvenBeforeTheClockTicksAgain() {
    fence.tick();
    advance(Duration.ofSeconds(25)); // frozen: the write comes before the next tick
    assertFalse(fence.mayWrite());
    fence.tick();
    advance(Duration.ofMillis(100));
    fence.tick();
    assertFalse(fence.mayWrite(), "fenced for good");
    assertEquals(List.of(Duration.ofSeconds(25).toNanos()), fencedAfter, "told once");
  }

  @Test
  void shouldNeverFenceTheOnlyMemberOfItsCluster() {
    alone = true; // nobody could have taken its entities over
    fence.tick();
    advance(Duration.ofMinutes(30)); // a laptop's sleep
    assertTrue(fence.mayWrite());
    fence.tick();
    assertTrue(fence.mayWrite());
    alone = false; // a second node joined
    advance(Duration.ofSeconds(11));
    assertFalse(fence.mayWrite());
  }

  @Test
  void shouldFenceWhenTheClockTicksFirstAfterTheLongPause() {
    fence.tick();
    advance(Duration.ofSeconds(11));
    fence.tick(); // the clock's thread ran before any write
    advance(Duration.ofMillis(1));
    assertFalse(fence.mayWrite());
    assertEquals(1, fencedAfter.size());
  }
}
