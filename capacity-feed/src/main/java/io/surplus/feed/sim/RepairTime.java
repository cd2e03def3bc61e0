package io.surplus.feed.sim;

import java.time.Duration;
import java.util.SplittableRandom;

/**
 * How long a failed node stays out: drained, repaired (or swapped) and returned. Samples are whole
 * seconds, at least one minute.
 */
public sealed interface RepairTime {

  /** One sample, in seconds. */
  long sampleSeconds(SplittableRandom rng);

  /** The mean, in seconds, for reports. */
  double meanSeconds();

  /** Always the same time. */
  record Fixed(Duration time) implements RepairTime {
    public Fixed {
      positive(time);
    }

    @Override
    public long sampleSeconds(SplittableRandom rng) {
      return atLeastAMinute(time.toSeconds());
    }

    @Override
    public double meanSeconds() {
      return time.toSeconds();
    }
  }

  /** Exponential with the given mean: memoryless, many quick fixes and a few long ones. */
  record Exponential(Duration mean) implements RepairTime {
    public Exponential {
      positive(mean);
    }

    @Override
    public long sampleSeconds(SplittableRandom rng) {
      return atLeastAMinute(Math.round(-Math.log(1.0 - rng.nextDouble()) * mean.toSeconds()));
    }

    @Override
    public double meanSeconds() {
      return mean.toSeconds();
    }
  }

  /**
   * Log-normal with the given median and shape {@code sigma}: most repairs are a reboot or a part
   * swap within hours, and a heavy tail waits for a vendor's replacement for days.
   */
  record LogNormal(Duration median, double sigma) implements RepairTime {
    public LogNormal {
      positive(median);
      if (!(sigma > 0 && sigma <= 3)) {
        throw new IllegalArgumentException("sigma must be in (0, 3]: sigma=" + sigma);
      }
    }

    @Override
    public long sampleSeconds(SplittableRandom rng) {
      return atLeastAMinute(Math.round(median.toSeconds() * Math.exp(sigma * gaussian(rng))));
    }

    @Override
    public double meanSeconds() {
      return median.toSeconds() * Math.exp(sigma * sigma / 2);
    }
  }

  /**
   * A standard normal sample by Box-Muller, written out so that the simulator's output does not
   * depend on how a JDK implements {@code nextGaussian}.
   */
  static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  private static void positive(Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("repair time must be > 0: " + d);
    }
  }

  private static long atLeastAMinute(long seconds) {
    return Math.max(60, seconds);
  }
}
