package io.surplus.market.bids;

import static io.surplus.market.http.Fields.MAX_NOTICE_SECONDS;
import static io.surplus.market.http.Fields.instant;
import static io.surplus.market.http.Fields.price;

import io.surplus.engine.BidSpec;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.market.http.Problem;
import io.surplus.market.ids.Ids;
import io.surplus.market.markets.WindowSlots;
import io.surplus.market.settings.Settings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The body of {@code POST /v1/bids}: what a bidder asks for, in the API's units (ISO-8601 instants,
 * minutes, USD per GPU-hour as a decimal string). {@link #toSpec} checks every rule and names the
 * field that breaks one; it rounds the time window inward to whole slots.
 */
public record BidRequest(
    String gpuModel,
    Integer nodes,
    Integer minNodes,
    Integer durationMinutes,
    String earliestStart,
    String latestEnd,
    String limitPrice,
    List<String> regions,
    Integer minNoticeSeconds,
    String timeInForce,
    String expiresAt,
    Boolean requeue,
    String minConfidence,
    List<String> avoidPools,
    Boolean requeueAvoidsPool) {

  /** A probability as windows give it: a plain decimal string from 0 to 1, at most 6 decimals. */
  private static final java.util.regex.Pattern PROBABILITY =
      java.util.regex.Pattern.compile("(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)");

  /**
   * The engine's bid (with id 1, to be replaced by the account's) for this request at {@code
   * nowMillis}, or a {@link Problem.Failure} naming the first field that breaks a rule.
   */
  public BidSpec toSpec(Settings settings, long nowMillis) {
    if (gpuModel == null) {
      throw Problem.missing("gpuModel").failure();
    }
    if (!settings.hasMarket(gpuModel)) {
      throw Problem.invalid(
              "gpuModel",
              "unknown GPU model '" + gpuModel + "'; markets: " + settings.markets().keySet())
          .failure();
    }
    int n = required("nodes", nodes);
    if (n < 1 || n > BidSpec.MAX_NODES) {
      throw Problem.invalid("nodes", "nodes must be between 1 and " + BidSpec.MAX_NODES).failure();
    }
    int min = minNodes == null ? n : minNodes;
    if (min < 1 || min > n) {
      throw Problem.invalid("minNodes", "minNodes must be between 1 and nodes (" + n + ")")
          .failure();
    }
    int minutes = required("durationMinutes", durationMinutes);
    SlotClock clock = settings.clock();
    long horizonMinutes = clock.seconds(clock.horizonSlots()) / 60;
    if (minutes < 1 || minutes > horizonMinutes) {
      throw Problem.invalid(
              "durationMinutes",
              "durationMinutes must be between 1 and the horizon, " + horizonMinutes)
          .failure();
    }
    long limit = price("limitPrice", limitPrice);
    Instant start = instant("earliestStart", earliestStart);
    Instant end = instant("latestEnd", latestEnd);
    if (!end.isAfter(start)) {
      throw Problem.invalid("latestEnd", "latestEnd must be after earliestStart").failure();
    }
    WindowSlots span = WindowSlots.span(clock, start, end, nowMillis, "latestEnd");
    int startSlot = span.start();
    int endSlot = span.end();
    int slots = clock.slotsFor(Duration.ofMinutes(minutes));
    if (startSlot + slots > endSlot) {
      throw Problem.invalid(
              "durationMinutes",
              "durationMinutes ("
                  + minutes
                  + ", "
                  + slots
                  + " slots) does not fit between earliestStart and latestEnd rounded inward to"
                  + " slots from now")
          .failure();
    }
    int notice = minNoticeSeconds == null ? 0 : minNoticeSeconds;
    if (notice < 0 || notice > MAX_NOTICE_SECONDS) {
      throw Problem.invalid(
              "minNoticeSeconds", "minNoticeSeconds must be between 0 and " + MAX_NOTICE_SECONDS)
          .failure();
    }
    long mask = BidSpec.ANY_REGION;
    if (regions != null) {
      if (regions.isEmpty()) {
        throw Problem.invalid("regions", "regions must name at least one region, or be left out")
            .failure();
      }
      mask = 0;
      for (String r : regions) {
        int id = r == null ? -1 : settings.regions().indexOf(r);
        if (id < 0) {
          throw Problem.invalid(
                  "regions", "unknown region '" + r + "'; regions: " + settings.regions())
              .failure();
        }
        mask |= 1L << id;
      }
    }
    TimeInForce tif;
    if (timeInForce == null) {
      tif = TimeInForce.GTC;
    } else if (timeInForce.equals("GTC") || timeInForce.equals("IOC")) {
      tif = TimeInForce.valueOf(timeInForce);
    } else {
      throw Problem.invalid("timeInForce", "timeInForce must be GTC or IOC").failure();
    }
    long expiry = BidSpec.NO_EXPIRY;
    if (expiresAt != null) {
      if (tif != TimeInForce.GTC) {
        throw Problem.invalid("expiresAt", "expiresAt applies to GTC bids only").failure();
      }
      Instant e = instant("expiresAt", expiresAt);
      if (e.toEpochMilli() <= nowMillis) {
        throw Problem.invalid("expiresAt", "expiresAt is in the past").failure();
      }
      // past the horizon it could never matter: latestEnd, inside the horizon, ends the bid first
      WindowSlots.checkHorizon(clock, e.toEpochMilli(), nowMillis, "expiresAt");
      expiry = e.toEpochMilli();
    }
    return new BidSpec(
        1,
        0,
        n,
        min,
        slots,
        startSlot,
        endSlot,
        limit,
        notice,
        mask,
        tif,
        expiry,
        requeue != null && requeue,
        minConfidencePpm(),
        avoidPoolKeys(),
        requeueAvoidsPool == null || requeueAvoidsPool);
  }

  /** {@code minConfidence} in parts per million; 0 (any window) when left out. */
  private int minConfidencePpm() {
    if (minConfidence == null) {
      return 0;
    }
    if (!PROBABILITY.matcher(minConfidence).matches()) {
      throw Problem.invalid(
              "minConfidence",
              "minConfidence must be a decimal string from 0 to 1 with at most 6 decimals, as"
                  + " windows give their confidence: got '"
                  + minConfidence
                  + "'")
          .failure();
    }
    return new java.math.BigDecimal(minConfidence).movePointRight(6).intValueExact();
  }

  /** The keys of the pools named in {@code avoidPools}; none when left out. */
  private List<Integer> avoidPoolKeys() {
    if (avoidPools == null) {
      return List.of();
    }
    if (avoidPools.size() > BidSpec.MAX_AVOID_POOLS) {
      throw Problem.invalid(
              "avoidPools", "avoidPools must name at most " + BidSpec.MAX_AVOID_POOLS + " pools")
          .failure();
    }
    List<Integer> keys = new java.util.ArrayList<>(avoidPools.size());
    for (String name : avoidPools) {
      int key = Ids.parsePool(name);
      if (key < 0) {
        throw Problem.invalid(
                "avoidPools",
                "avoidPools must name pools as the window timeline shows them, pool- and six"
                    + " lower-case hex digits such as pool-3fa2c1: got '"
                    + name
                    + "'")
            .failure();
      }
      if (keys.contains(key)) {
        throw Problem.invalid("avoidPools", "avoidPools names " + name + " twice").failure();
      }
      keys.add(key);
    }
    return keys;
  }

  static int required(String field, Integer value) {
    if (value == null) {
      throw Problem.missing(field).failure();
    }
    return value;
  }
}
