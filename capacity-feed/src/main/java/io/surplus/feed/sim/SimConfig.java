package io.surplus.feed.sim;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Everything the training-window simulator depends on besides its seed. {@link #defaults()} gives
 * the values of the constants below; {@link #referenceFleet()} the Llama 3 405B reference: one pool
 * of 2,048 H100 nodes (16,384 GPUs).
 *
 * <p>The failure rates come from Meta's Llama 3 report: 466 job interruptions in 54 days of
 * pre-training on 16,384 H100 GPUs (2,048 nodes), 419 unexpected and 47 planned. The simulator
 * applies them per node: {@code unexpected / (referenceNodes x referenceDays)} failures per healthy
 * node per day, and {@code planned / (referenceNodes x referenceDays)} maintenance events per node
 * per day of a pool.
 */
public record SimConfig(
    Instant start,
    int days,
    List<PoolSpec> fleet,
    int referenceUnexpected,
    int referencePlanned,
    int referenceNodes,
    int referenceDays,
    RepairTime repairTime,
    double spareFraction,
    int maintenanceNodes,
    Duration maintenanceNotice,
    Duration maintenanceMin,
    Duration maintenanceMax,
    Duration runMin,
    Duration runMax,
    Duration stagingMin,
    Duration stagingMax,
    double stagingFactorMin,
    double stagingFactorMax,
    Duration overrunLead,
    Duration evalEvery,
    Duration evalGapMin,
    Duration evalGapMax,
    double evalFraction,
    Duration spareWindow,
    Duration announceLead,
    int gapNoticeSeconds,
    int stagingNoticeSeconds,
    int spareNoticeSeconds,
    int maxWindowNodes,
    Duration minWindow) {

  /** Simulated time starts here, a Monday; nothing reads the wall clock. */
  public static final Instant DEFAULT_START = Instant.parse("2025-01-06T00:00:00Z");

  /** Days simulated: the length of the Llama 3 405B pre-training snapshot. */
  public static final int DEFAULT_DAYS = 54;

  /** Unexpected interruptions in the reference run (GPU, HBM, network, host failures). */
  public static final int DEFAULT_REFERENCE_UNEXPECTED = 419;

  /** Planned interruptions in the reference run (firmware upgrades, operator maintenance). */
  public static final int DEFAULT_REFERENCE_PLANNED = 47;

  /** Nodes of the reference run: 16,384 GPUs in 8-GPU nodes. */
  public static final int DEFAULT_REFERENCE_NODES = 2048;

  /** Days of the reference run. */
  public static final int DEFAULT_REFERENCE_DAYS = 54;

  /** Repair time: log-normal, median 3 h, sigma 1 (mean ~5 h, p99 ~31 h). */
  public static final RepairTime DEFAULT_REPAIR_TIME =
      new RepairTime.LogNormal(Duration.ofHours(3), 1.0);

  /** Share of a pool kept as hot spares that replace failed job nodes. */
  public static final double DEFAULT_SPARE_FRACTION = 0.02;

  /** Nodes one planned maintenance takes out (one rack's worth). */
  public static final int DEFAULT_MAINTENANCE_NODES = 8;

  /** How far ahead a planned maintenance is announced; at least every window's notice. */
  public static final Duration DEFAULT_MAINTENANCE_NOTICE = Duration.ofHours(2);

  /** Shortest planned maintenance. */
  public static final Duration DEFAULT_MAINTENANCE_MIN = Duration.ofHours(2);

  /** Longest planned maintenance. */
  public static final Duration DEFAULT_MAINTENANCE_MAX = Duration.ofHours(6);

  /** Shortest pre-training run (uniform between min and max). */
  public static final Duration DEFAULT_RUN_MIN = Duration.ofDays(10);

  /** Longest pre-training run. */
  public static final Duration DEFAULT_RUN_MAX = Duration.ofDays(30);

  /** Shortest estimated staging of the next job (uniform between min and max). */
  public static final Duration DEFAULT_STAGING_MIN = Duration.ofHours(4);

  /** Longest estimated staging of the next job. */
  public static final Duration DEFAULT_STAGING_MAX = Duration.ofHours(16);

  /** Actual staging time over estimate, lowest factor (staging finished early). */
  public static final double DEFAULT_STAGING_FACTOR_MIN = 0.6;

  /** Actual staging time over estimate, highest factor (staging overran). */
  public static final double DEFAULT_STAGING_FACTOR_MAX = 1.6;

  /** How long before the estimated end of staging an overrun is announced (window.extended). */
  public static final Duration DEFAULT_OVERRUN_LEAD = Duration.ofMinutes(30);

  /** Training time between two checkpoint-and-eval gaps. */
  public static final Duration DEFAULT_EVAL_EVERY = Duration.ofHours(24);

  /** Shortest checkpoint-and-eval gap (uniform between min and max). */
  public static final Duration DEFAULT_EVAL_GAP_MIN = Duration.ofHours(1);

  /** Longest checkpoint-and-eval gap. */
  public static final Duration DEFAULT_EVAL_GAP_MAX = Duration.ofHours(4);

  /** Share of the job's nodes that run the evals during a gap; the rest is offered. */
  public static final double DEFAULT_EVAL_FRACTION = 0.125;

  /** Length of the rolling windows that offer idle spares. */
  public static final Duration DEFAULT_SPARE_WINDOW = Duration.ofHours(6);

  /** How long before a scheduled gap or staging window starts it is announced (window.opened). */
  public static final Duration DEFAULT_ANNOUNCE_LEAD = Duration.ofHours(1);

  /** Notice promised by checkpoint-and-eval gap windows. */
  public static final int DEFAULT_GAP_NOTICE_SECONDS = 900;

  /** Notice promised by staging windows (between two runs). */
  public static final int DEFAULT_STAGING_NOTICE_SECONDS = 1800;

  /** Notice promised by spare windows: how long the job waits for a spare it calls in. */
  public static final int DEFAULT_SPARE_NOTICE_SECONDS = 600;

  /** Nodes per window at most; a larger idle set is offered as several windows. */
  public static final int DEFAULT_MAX_WINDOW_NODES = 128;

  /** Windows shorter than this are not offered. */
  public static final Duration DEFAULT_MIN_WINDOW = Duration.ofMinutes(30);

  /** A fleet across the three GPU models and three regions: 5,888 nodes, 47,104 GPUs. */
  public static final List<PoolSpec> DEFAULT_FLEET =
      List.of(
          PoolSpec.of("ash-h100-a", "H100-SXM-80GB", "us-east", 2048, "1.40"),
          PoolSpec.of("ash-h100-b", "H100-SXM-80GB", "us-east", 1024, "1.40"),
          PoolSpec.of("fra-h100-a", "H100-SXM-80GB", "eu-central", 512, "1.60"),
          PoolSpec.of("pdx-h200-a", "H200-SXM-141GB", "us-west", 1536, "2.10"),
          PoolSpec.of("pdx-a100-a", "A100-SXM-80GB", "us-west", 768, "0.80"));

  /** The Llama 3 405B reference: one pool of 2,048 H100 nodes. */
  public static final List<PoolSpec> REFERENCE_FLEET =
      List.of(PoolSpec.of("ref-h100", "H100-SXM-80GB", "us-east", 2048, "1.40"));

  public SimConfig {
    Objects.requireNonNull(start, "start");
    fleet = List.copyOf(fleet);
    Objects.requireNonNull(repairTime, "repairTime");
    check(days > 0 && days <= 3650, "days must be in 1..3650: days=" + days);
    check(!fleet.isEmpty(), "fleet must have a pool");
    check(
        fleet.stream().map(PoolSpec::name).distinct().count() == fleet.size(),
        "pool names must be unique: fleet=" + fleet);
    check(
        referenceUnexpected >= 0 && referencePlanned >= 0, "reference interruptions must be >= 0");
    check(referenceNodes > 0 && referenceDays > 0, "reference nodes and days must be > 0");
    check(
        spareFraction >= 0 && spareFraction < 0.5,
        "spareFraction must be in [0, 0.5): spareFraction=" + spareFraction);
    check(maintenanceNodes > 0, "maintenanceNodes must be > 0: " + maintenanceNodes);
    check(
        maintenanceNotice.toSeconds()
            >= Math.max(gapNoticeSeconds, Math.max(stagingNoticeSeconds, spareNoticeSeconds)),
        "maintenanceNotice must be at least every window's notice: " + maintenanceNotice);
    ordered("maintenance", maintenanceMin, maintenanceMax);
    ordered("run", runMin, runMax);
    ordered("staging", stagingMin, stagingMax);
    ordered("evalGap", evalGapMin, evalGapMax);
    check(
        stagingFactorMin > 0 && stagingFactorMin <= stagingFactorMax,
        "staging factors must satisfy 0 < min <= max");
    check(evalEvery.toSeconds() > announceLead.toSeconds(), "evalEvery must exceed announceLead");
    check(
        runMin.toSeconds() > evalEvery.toSeconds() + announceLead.toSeconds(),
        "runMin must exceed evalEvery + announceLead");
    check(
        evalFraction >= 0 && evalFraction < 1,
        "evalFraction must be in [0, 1): evalFraction=" + evalFraction);
    check(spareWindow.toSeconds() > 0, "spareWindow must be > 0");
    check(announceLead.toSeconds() > 0, "announceLead must be > 0");
    check(overrunLead.toSeconds() >= 0, "overrunLead must be >= 0");
    check(
        gapNoticeSeconds >= 0 && stagingNoticeSeconds >= 0 && spareNoticeSeconds >= 0,
        "notices must be >= 0");
    check(maxWindowNodes > 0, "maxWindowNodes must be > 0: " + maxWindowNodes);
    check(minWindow.toSeconds() > 0, "minWindow must be > 0");
  }

  /** The defaults: the constants above, on {@link #DEFAULT_FLEET}. */
  public static SimConfig defaults() {
    return new SimConfig(
        DEFAULT_START,
        DEFAULT_DAYS,
        DEFAULT_FLEET,
        DEFAULT_REFERENCE_UNEXPECTED,
        DEFAULT_REFERENCE_PLANNED,
        DEFAULT_REFERENCE_NODES,
        DEFAULT_REFERENCE_DAYS,
        DEFAULT_REPAIR_TIME,
        DEFAULT_SPARE_FRACTION,
        DEFAULT_MAINTENANCE_NODES,
        DEFAULT_MAINTENANCE_NOTICE,
        DEFAULT_MAINTENANCE_MIN,
        DEFAULT_MAINTENANCE_MAX,
        DEFAULT_RUN_MIN,
        DEFAULT_RUN_MAX,
        DEFAULT_STAGING_MIN,
        DEFAULT_STAGING_MAX,
        DEFAULT_STAGING_FACTOR_MIN,
        DEFAULT_STAGING_FACTOR_MAX,
        DEFAULT_OVERRUN_LEAD,
        DEFAULT_EVAL_EVERY,
        DEFAULT_EVAL_GAP_MIN,
        DEFAULT_EVAL_GAP_MAX,
        DEFAULT_EVAL_FRACTION,
        DEFAULT_SPARE_WINDOW,
        DEFAULT_ANNOUNCE_LEAD,
        DEFAULT_GAP_NOTICE_SECONDS,
        DEFAULT_STAGING_NOTICE_SECONDS,
        DEFAULT_SPARE_NOTICE_SECONDS,
        DEFAULT_MAX_WINDOW_NODES,
        DEFAULT_MIN_WINDOW);
  }

  /** The defaults on {@link #REFERENCE_FLEET}. */
  public static SimConfig referenceFleet() {
    return defaults().withFleet(REFERENCE_FLEET);
  }

  public SimConfig withDays(int newDays) {
    return with(newDays, fleet, repairTime);
  }

  public SimConfig withFleet(List<PoolSpec> newFleet) {
    return with(days, newFleet, repairTime);
  }

  public SimConfig withRepairTime(RepairTime newRepairTime) {
    return with(days, fleet, newRepairTime);
  }

  /** Total nodes of the fleet. */
  public int fleetNodes() {
    return fleet.stream().mapToInt(PoolSpec::nodes).sum();
  }

  /** Unexpected failures per healthy node per second. */
  public double unexpectedPerNodeSecond() {
    return referenceUnexpected / ((double) referenceNodes * referenceDays * 86_400);
  }

  /** Planned maintenance events per node of a pool per second. */
  public double plannedPerNodeSecond() {
    return referencePlanned / ((double) referenceNodes * referenceDays * 86_400);
  }

  /** Unexpected interruptions the configured rate gives this fleet over {@link #days()}. */
  public double expectedUnexpected() {
    return unexpectedPerNodeSecond() * fleetNodes() * days * 86_400.0;
  }

  /** Planned interruptions the configured rate gives this fleet over {@link #days()}. */
  public double expectedPlanned() {
    return plannedPerNodeSecond() * fleetNodes() * days * 86_400.0;
  }

  private SimConfig with(int newDays, List<PoolSpec> newFleet, RepairTime newRepairTime) {
    return new SimConfig(
        start,
        newDays,
        newFleet,
        referenceUnexpected,
        referencePlanned,
        referenceNodes,
        referenceDays,
        newRepairTime,
        spareFraction,
        maintenanceNodes,
        maintenanceNotice,
        maintenanceMin,
        maintenanceMax,
        runMin,
        runMax,
        stagingMin,
        stagingMax,
        stagingFactorMin,
        stagingFactorMax,
        overrunLead,
        evalEvery,
        evalGapMin,
        evalGapMax,
        evalFraction,
        spareWindow,
        announceLead,
        gapNoticeSeconds,
        stagingNoticeSeconds,
        spareNoticeSeconds,
        maxWindowNodes,
        minWindow);
  }

  private static void ordered(String what, Duration min, Duration max) {
    check(
        min.toSeconds() > 0 && min.compareTo(max) <= 0,
        what + " durations must satisfy 0 < min <= max: min=" + min + ", max=" + max);
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
