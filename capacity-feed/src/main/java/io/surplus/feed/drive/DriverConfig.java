package io.surplus.feed.drive;

import io.surplus.engine.SlotClock;
import io.surplus.feed.protocol.FeedRules;
import io.surplus.feed.sim.DemandGenerator;
import io.surplus.feed.sim.SimConfig;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a {@link FeedDriver} needs: where the marketplace is, the keys, the simulation, and
 * how fast and how hard to drive it. Build one with {@link #builder(URI, String)}; every other
 * setting has the default named beside it.
 *
 * @param slotSeconds the market's slot length in real seconds; it must match the market's own
 *     setting, since the driver aligns the simulation to that grid and holds windows back to the
 *     market's horizon
 * @param windowIdPrefix put before every simulated window id; empty when not set, then {@link
 *     FeedDriver#start()} derives one from the real start
 */
public record DriverConfig(
    URI baseUrl,
    String providerKey,
    Optional<String> bidderKey,
    long seed,
    double speed,
    int slotSeconds,
    int horizonSlots,
    SimConfig simConfig,
    DemandGenerator.Config demandConfig,
    Clock clock,
    Duration tick,
    int maxBatch,
    int maxBidsPerTick,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration heartbeatEvery,
    Duration connectTimeout,
    Duration requestTimeout,
    Optional<String> windowIdPrefix) {

  /** Seed of the simulated fleet and its demand. */
  public static final long DEFAULT_SEED = 7;

  /** Simulated seconds per real second: an hour of the fleet per real minute. */
  public static final double DEFAULT_SPEED = 60;

  /** The simulator's slot, 15 minutes, which the market's slot must equal once divided by speed. */
  public static final int SIM_SLOT_SECONDS = 900;

  /** The market's horizon in slots: a window may be announced that far ahead of its end. */
  public static final int DEFAULT_HORIZON_SLOTS = SlotClock.DEFAULT_HORIZON_SLOTS;

  /** How often the driver wakes to send what has come due; also how early it may send it. */
  public static final Duration DEFAULT_TICK = Duration.ofSeconds(1);

  /** Feed lines in one POST, at most. */
  public static final int DEFAULT_MAX_BATCH = 500;

  /** Bids placed in one tick, at most; the rest wait for the next, which follows at once. */
  public static final int DEFAULT_MAX_BIDS_PER_TICK = 200;

  /** First wait after a failed request; it doubles on each further failure. */
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(250);

  /** Longest wait after failed requests. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(10);

  /** A heartbeat is sent after this long without any other feed event; zero sends none. */
  public static final Duration DEFAULT_HEARTBEAT_EVERY = Duration.ofSeconds(30);

  /** How long to wait for a TCP connection. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);

  /** How long to wait for a reply. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

  public DriverConfig {
    Objects.requireNonNull(baseUrl, "baseUrl");
    if (!"http".equals(baseUrl.getScheme()) && !"https".equals(baseUrl.getScheme())) {
      throw new IllegalArgumentException("baseUrl must be http or https: baseUrl=" + baseUrl);
    }
    requireKey("providerKey", providerKey);
    Objects.requireNonNull(bidderKey, "bidderKey");
    bidderKey.ifPresent(k -> requireKey("bidderKey", k));
    if (!(speed > 0) || speed > TimeMapping.MAX_SPEED) {
      throw new IllegalArgumentException(
          "speed must be in (0, " + TimeMapping.MAX_SPEED + "]: speed=" + speed);
    }
    if (slotSeconds <= 0 || 86_400 % slotSeconds != 0) {
      throw new IllegalArgumentException(
          "slotSeconds must be > 0 and divide a day: slotSeconds=" + slotSeconds);
    }
    positive("horizonSlots", horizonSlots);
    Objects.requireNonNull(simConfig, "simConfig");
    Objects.requireNonNull(demandConfig, "demandConfig");
    Objects.requireNonNull(clock, "clock");
    positive("tick", tick.toMillis());
    positive("maxBatch", maxBatch);
    positive("maxBidsPerTick", maxBidsPerTick);
    positive("initialBackoff", initialBackoff.toMillis());
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff must be >= initialBackoff: maxBackoff=" + maxBackoff);
    }
    if (heartbeatEvery.isNegative()) {
      throw new IllegalArgumentException("heartbeatEvery must be >= 0: " + heartbeatEvery);
    }
    positive("connectTimeout", connectTimeout.toMillis());
    positive("requestTimeout", requestTimeout.toMillis());
    Objects.requireNonNull(windowIdPrefix, "windowIdPrefix");
    windowIdPrefix.ifPresent(
        p -> {
          if (!p.isEmpty() && FeedRules.name(p) != null) {
            throw new IllegalArgumentException(
                "windowIdPrefix " + FeedRules.name(p) + ": windowIdPrefix=" + p);
          }
        });
  }

  /** The market's slot for {@code speed}: 900 s divided by the speed, at least one second. */
  public static int slotSecondsFor(double speed) {
    return (int) Math.max(1, Math.round(SIM_SLOT_SECONDS / speed));
  }

  /** Defaults for the marketplace at {@code baseUrl}, fed with {@code providerKey}, no demand. */
  public static Builder builder(URI baseUrl, String providerKey) {
    return new Builder(baseUrl, providerKey);
  }

  private static void requireKey(String name, String key) {
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException(name + " must be set");
    }
  }

  private static void positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0: " + name + "=" + value);
    }
  }

  /** Builds a {@link DriverConfig}; unset values take their defaults. */
  public static final class Builder {
    private final URI baseUrl;
    private final String providerKey;
    private String bidderKey;
    private long seed = DEFAULT_SEED;
    private double speed = DEFAULT_SPEED;
    private int slotSeconds;
    private int horizonSlots = DEFAULT_HORIZON_SLOTS;
    private SimConfig simConfig = SimConfig.defaults();
    private DemandGenerator.Config demandConfig = DemandGenerator.Config.defaults();
    private Clock clock = Clock.systemUTC();
    private Duration tick = DEFAULT_TICK;
    private int maxBatch = DEFAULT_MAX_BATCH;
    private int maxBidsPerTick = DEFAULT_MAX_BIDS_PER_TICK;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private Duration heartbeatEvery = DEFAULT_HEARTBEAT_EVERY;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private String windowIdPrefix;

    private Builder(URI baseUrl, String providerKey) {
      this.baseUrl = baseUrl;
      this.providerKey = providerKey;
    }

    /** Places the simulated demand's bids with this key; {@code null} places none. */
    public Builder bidderKey(String key) {
      this.bidderKey = key;
      return this;
    }

    public Builder seed(long value) {
      this.seed = value;
      return this;
    }

    public Builder speed(double value) {
      this.speed = value;
      return this;
    }

    /** The market's slot in real seconds; 0 (the default) means {@link #slotSecondsFor}(speed). */
    public Builder slotSeconds(int value) {
      this.slotSeconds = value;
      return this;
    }

    public Builder horizonSlots(int value) {
      this.horizonSlots = value;
      return this;
    }

    public Builder simConfig(SimConfig value) {
      this.simConfig = value;
      return this;
    }

    public Builder demandConfig(DemandGenerator.Config value) {
      this.demandConfig = value;
      return this;
    }

    public Builder clock(Clock value) {
      this.clock = value;
      return this;
    }

    public Builder tick(Duration value) {
      this.tick = value;
      return this;
    }

    public Builder maxBatch(int value) {
      this.maxBatch = value;
      return this;
    }

    public Builder maxBidsPerTick(int value) {
      this.maxBidsPerTick = value;
      return this;
    }

    public Builder backoff(Duration initial, Duration max) {
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    public Builder heartbeatEvery(Duration value) {
      this.heartbeatEvery = value;
      return this;
    }

    public Builder timeouts(Duration connect, Duration request) {
      this.connectTimeout = connect;
      this.requestTimeout = request;
      return this;
    }

    /** Put before every window id; {@code ""} keeps the simulator's ids as they are. */
    public Builder windowIdPrefix(String value) {
      this.windowIdPrefix = value;
      return this;
    }

    public DriverConfig build() {
      return new DriverConfig(
          baseUrl,
          providerKey,
          Optional.ofNullable(bidderKey),
          seed,
          speed,
          slotSeconds == 0 && speed > 0 ? slotSecondsFor(speed) : slotSeconds,
          horizonSlots,
          simConfig,
          demandConfig,
          clock,
          tick,
          maxBatch,
          maxBidsPerTick,
          initialBackoff,
          maxBackoff,
          heartbeatEvery,
          connectTimeout,
          requestTimeout,
          Optional.ofNullable(windowIdPrefix));
    }
  }
}
