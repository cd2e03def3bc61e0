package io.surplus.feed.drive;

import io.surplus.feed.sim.FleetOptions;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Drives a running marketplace with the simulated fleet's capacity feed and, given a bidder key,
 * its outside demand, in accelerated time; prints a status line every 10 seconds until the
 * simulation ends, {@code --duration} passes, or Ctrl-C.
 */
@Command(
    name = "feed-simulate",
    mixinStandardHelpOptions = true,
    description =
        "Feeds a running marketplace with the simulated training fleet's windows (and bids), in"
            + " accelerated time. The marketplace must run with slots of --slot-seconds.")
public final class FeedSimulateCommand implements Callable<Integer> {

  /** How often the status line is printed. */
  static final Duration STATUS_EVERY = Duration.ofSeconds(10);

  @Spec CommandSpec spec;

  @Mixin FleetOptions sim;

  @Option(
      names = "--url",
      required = true,
      description = "Marketplace base URL, e.g. http://127.0.0.1:8080.")
  URI url;

  @Option(
      names = "--key",
      defaultValue = "${env:SURPLUS_PROVIDER_KEY}",
      description = "Provider API key (default: env SURPLUS_PROVIDER_KEY).")
  String key;

  @Option(
      names = "--bidder-key",
      defaultValue = "${env:SURPLUS_BIDDER_KEY}",
      description =
          "Bidder API key for the simulated demand (default: env SURPLUS_BIDDER_KEY; none: no bids).")
  String bidderKey;

  @Option(
      names = "--speed",
      defaultValue = "60",
      description = "Simulated seconds per real second (default ${DEFAULT-VALUE}).")
  double speed;

  @Option(
      names = "--slot-seconds",
      description = "The marketplace's slot length in seconds (default: 900 / speed).")
  Integer slotSeconds;

  @Option(
      names = "--duration",
      description =
          "Stop after this many real seconds (default: run until the simulation ends or Ctrl-C).")
  Long duration;

  public static void main(String[] args) {
    System.exit(new CommandLine(new FeedSimulateCommand()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    if (key == null || key.isBlank()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "a provider key is required: --key or SURPLUS_PROVIDER_KEY");
    }
    if (duration != null && duration <= 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--duration must be > 0: " + duration);
    }
    DriverConfig config;
    try {
      config =
          DriverConfig.builder(url, key)
              .bidderKey(bidderKey == null || bidderKey.isBlank() ? null : bidderKey)
              .seed(sim.seed)
              .speed(speed)
              .slotSeconds(slotSeconds == null ? 0 : slotSeconds)
              .simConfig(sim.config())
              .build();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    FeedDriver driver = new FeedDriver(config);
    Thread hook = new Thread(driver::close, "feed-simulate-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    driver.start();
    out.printf(
        "feeding %s at %sx, slots of %d s, seed %d, %s; simulated %s is %s%n",
        url,
        speed,
        config.slotSeconds(),
        sim.seed,
        config.bidderKey().isPresent() ? "with demand" : "no demand",
        config.simConfig().start(),
        driver.timeMapping().realStart());
    out.flush();
    long stopAt = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration * 1_000_000_000L;
    while (true) {
      long left = stopAt - System.nanoTime();
      if (left <= 0) {
        break;
      }
      Duration wait = Duration.ofNanos(Math.min(left, STATUS_EVERY.toNanos()));
      boolean finished = driver.awaitFinished(wait);
      out.println(driver.stats().statusLine());
      out.flush();
      if (finished || driver.isClosed()) {
        break;
      }
    }
    driver.close();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook has closed the driver.
    }
    return 0;
  }
}
