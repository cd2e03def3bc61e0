package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.global;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.Simulation;
import java.util.List;

/**
 * A simulation whose load phase is timed: Gatling calls {@link #before()} once the set-up
 * (accounts, windows, a pre-filled book) is done and the scenarios are about to start, and {@link
 * Results} writes that moment and the end beside the figures, so {@code LoadReport} takes the CPU
 * shares of the service, its Cassandra node and the generator over the load alone.
 */
public abstract class MeasuredSimulation extends Simulation {

  /**
   * Notes the load's start for the report, and tells the harness in {@code <out>/load-started}
   * (epoch millis): a fault run counts its kill from it, and the reads wrk makes for {@link
   * MarketReaders} start with it.
   */
  @Override
  public void before() {
    Results.loadStarts();
    tellHarness(LoadConfig.fromSystemProperties(0, 0), "load-started");
  }

  /** Tells the harness that a moment came: {@code <out>/<file>} holds it (epoch millis). */
  static void tellHarness(LoadConfig config, String file) {
    try {
      java.nio.file.Files.createDirectories(config.out());
      java.nio.file.Files.writeString(
          config.out().resolve(file), Long.toString(System.currentTimeMillis()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * The pass mark over all requests: the 99th percentile of response times within {@code
   * surplus.p99Millis} and no failed request.
   */
  static List<Assertion> p99AndNoFailure(LoadConfig config) {
    return List.of(
        global().responseTime().percentile(99.0).lte(config.p99Millis()),
        global().failedRequests().count().is(0L));
  }

  /**
   * The instant a fault run ({@code ./surplus load --kill-after}) found the restarted service
   * ready, from {@code <out>/restarted-at}; 0 when the service was not restarted.
   */
  static long restartedAtMillis(LoadConfig config) {
    java.nio.file.Path file = config.out().resolve("restarted-at");
    try {
      return java.nio.file.Files.exists(file)
          ? Long.parseLong(java.nio.file.Files.readString(file).strip())
          : 0;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
