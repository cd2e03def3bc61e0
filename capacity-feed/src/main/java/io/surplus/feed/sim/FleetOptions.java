package io.surplus.feed.sim;

import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The options every command that runs the simulated fleet shares ({@code --seed}, {@code --days},
 * {@code --fleet}), as a picocli mixin: {@code @Mixin FleetOptions fleet;}.
 */
public final class FleetOptions {

  /** Which fleet to simulate. */
  public enum Fleet {
    /** {@link SimConfig#DEFAULT_FLEET}: five pools, three GPU models, three regions. */
    DEFAULT,
    /** {@link SimConfig#REFERENCE_FLEET}: the Llama 3 405B cluster, 2,048 H100 nodes. */
    REFERENCE;

    /** As the options write it: {@code default}, {@code reference}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  @Option(
      names = "--seed",
      defaultValue = "7",
      description = "Random seed of the fleet and its demand (default ${DEFAULT-VALUE}).")
  public long seed;

  @Option(
      names = "--days",
      defaultValue = "" + SimConfig.DEFAULT_DAYS,
      description = "Simulated days (default ${DEFAULT-VALUE}).")
  public int days;

  @Option(
      names = "--fleet",
      defaultValue = "default",
      description =
          "default, or reference (the 2,048-node Llama 3 cluster) (default ${DEFAULT-VALUE}).",
      converter = FleetConverter.class)
  public Fleet fleet;

  /** The fleet's configuration over {@link #days}. */
  public SimConfig config() {
    return (fleet == Fleet.REFERENCE ? SimConfig.referenceFleet() : SimConfig.defaults())
        .withDays(days);
  }

  /** {@code default} or {@code reference}, in any case; anything else is a usage error. */
  static final class FleetConverter implements picocli.CommandLine.ITypeConverter<Fleet> {
    @Override
    public Fleet convert(String value) {
      try {
        return Fleet.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "--fleet must be default or reference: " + value);
      }
    }
  }
}
