package io.surplus.market.markets;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The markets of a service take turns within the epoch interval, on the wall clock. */
class EpochPhaseTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  @Test
  void shouldTickEachMarketAtItsOwnShareOfTheInterval() {
    long now = 1_795_745_714_131L; // 131 ms past a second
    assertEquals(869, Market.firstTick(now, SECOND, 0, 3).toMillis()); // at .000
    assertEquals(202, Market.firstTick(now, SECOND, 1, 3).toMillis()); // at .333
    assertEquals(535, Market.firstTick(now, SECOND, 2, 3).toMillis()); // at .666
    TreeSet<Long> at = new TreeSet<>();
    for (int rank = 0; rank < 3; rank++) {
      at.add((now + Market.firstTick(now, SECOND, rank, 3).toMillis()) % 1000);
    }
    assertEquals(new TreeSet<>(java.util.List.of(0L, 333L, 666L)), at);
  }

  @Test
  void shouldNeverTickAtOnceAndWaitAnIntervalWhenUnranked() {
    assertEquals(1000, Market.firstTick(5_000, SECOND, 0, 3).toMillis());
    assertEquals(1000, Market.firstTick(5_123, SECOND, -1, 3).toMillis());
    assertEquals(1000, Market.firstTick(5_123, SECOND, 0, 0).toMillis());
  }
}
