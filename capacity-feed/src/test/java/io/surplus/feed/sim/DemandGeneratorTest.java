package io.surplus.feed.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.feed.sim.DemandGenerator.Arrival;
import io.surplus.feed.sim.DemandGenerator.Config;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemandGeneratorTest {

  private static final Instant FROM = SimConfig.DEFAULT_START;

  private static List<Arrival> day(long seed) {
    return DemandGenerator.generate(Config.defaults(), seed, FROM, Duration.ofDays(1));
  }

  @Test
  void shouldGiveTheSameBidsForTheSameSeed() {
    assertEquals(day(9), day(9));
    assertNotEquals(day(9), day(10));
  }

  @Test
  void shouldArriveAtTheConfiguredRate() {
    int n = day(9).size();
    // Poisson: 2,880 +/- 4 sd (215).
    assertEquals(2880, n, 4 * Math.sqrt(2880));
  }

  @Test
  void shouldOnlyMakeBidsTheEngineAccepts() {
    SlotClock clock = SlotClock.DEFAULT;
    long id = 0;
    Instant previous = FROM;
    for (Arrival a : day(9)) {
      DemandBid b = a.bid();
      assertFalse(a.at().isBefore(previous));
      previous = a.at();
      assertFalse(b.earliestStart().isBefore(a.at()), "starts no earlier than it arrives");
      assertTrue(Config.DEFAULT_NODE_SIZES.contains(b.nodes()));
      assertTrue(b.minNodes() == b.nodes() || b.minNodes() == Math.max(1, b.nodes() / 2));
      assertTrue(b.durationMinutes() >= 15 && b.durationMinutes() <= 24 * 60);
      assertEquals(0, b.durationMinutes() % 15);
      assertTrue(b.limitPrice().matches("[0-9]+\\.[0-9]{2}"), b.limitPrice());
      // Rounded inward to slots, the bid still has room for its duration.
      b.toSpec(
          ++id,
          1,
          clock.slotsFor(Duration.ofMinutes(b.durationMinutes())),
          clock.slotAtOrAfter(b.earliestStart()),
          clock.slotAtOrBefore(b.latestEnd()));
    }
  }

  @Test
  void shouldScatterPricesAroundEachModelsReference() {
    List<Long> h100 =
        day(9).stream()
            .filter(a -> a.bid().gpuModel().name().equals("H100-SXM-80GB"))
            .map(a -> a.bid().limitPriceMicros())
            .sorted()
            .toList();
    long median = h100.get(h100.size() / 2);
    assertEquals(2_000_000, median, 100_000);
    long ioc = day(9).stream().filter(a -> a.bid().timeInForce() == TimeInForce.IOC).count();
    assertTrue(ioc > 0.10 * day(9).size() && ioc < 0.20 * day(9).size(), "about 15% IOC");
  }
}
