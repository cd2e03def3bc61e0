package io.surplus.feed.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RepairTimeTest {

  private static long[] sample(RepairTime t, int n) {
    SplittableRandom rng = new SplittableRandom(1);
    long[] s = new long[n];
    for (int i = 0; i < n; i++) {
      s[i] = t.sampleSeconds(rng);
    }
    Arrays.sort(s);
    return s;
  }

  @Test
  void shouldDrawLogNormalRepairsAroundTheirMedian() {
    long[] s = sample(new RepairTime.LogNormal(Duration.ofHours(3), 1.0), 40_000);
    // The sample median of 40,000 draws has a standard error of about 0.6% here.
    assertEquals(3 * 3600, s[s.length / 2], 3 * 3600 * 0.03);
  }

  @Test
  void shouldDrawExponentialRepairsWithTheirMean() {
    RepairTime t = new RepairTime.Exponential(Duration.ofHours(5));
    double mean = Arrays.stream(sample(t, 40_000)).average().orElseThrow();
    assertEquals(t.meanSeconds(), mean, t.meanSeconds() * 0.03);
  }

  @Test
  void shouldRefuseANonPositiveRepairTime() {
    assertThrows(IllegalArgumentException.class, () -> new RepairTime.Fixed(Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class, () -> new RepairTime.LogNormal(Duration.ofHours(1), 0));
  }
}
