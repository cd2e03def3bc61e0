package io.surplus.feed.drive;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.surplus.feed.sim.DemandBid;
import io.surplus.feed.sim.DemandGenerator;
import io.surplus.feed.sim.DemandGenerator.Arrival;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;

/**
 * The simulator's outside demand, one simulated day at a time (a day of default demand is about
 * 2,900 bids; 54 days at once would hold some 150,000), each bid with the real instant it is due
 * and a deterministic idempotency key. Day {@code d} is {@link DemandGenerator#generate} over that
 * day with a seed derived from the run's seed and {@code d}, so the same seed gives the same bids.
 * Not thread-safe: the driver's one thread owns it.
 */
final class DemandSchedule {

  /**
   * One bid to place.
   *
   * @param index its position in the run's demand, from 0
   * @param dueMillis real epoch milliseconds at which it arrives
   * @param idempotencyKey the key it is posted with, the same on every retry
   * @param simArrival its simulated arrival
   * @param simBid the bid in simulated time
   */
  record Bid(
      long index, long dueMillis, String idempotencyKey, Instant simArrival, DemandBid simBid) {}

  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  private final Iterator<Arrival> arrivals;
  private final TimeMapping map;
  private final String keyPrefix;
  private Arrival next;
  private long nextIndex;

  DemandSchedule(
      DemandGenerator.Config config,
      long seed,
      Instant simStart,
      int days,
      TimeMapping map,
      String keyPrefix) {
    this.arrivals = DemandGenerator.daily(config, seed, simStart, days);
    this.map = map;
    this.keyPrefix = keyPrefix;
  }

  /** The next bid, or {@code null} when the demand is exhausted. */
  Bid peek() {
    if (next == null && arrivals.hasNext()) {
      next = arrivals.next();
    }
    Arrival a = next;
    if (a == null) {
      return null;
    }
    return new Bid(nextIndex, map.toRealMillis(a.at()), keyPrefix + nextIndex, a.at(), a.bid());
  }

  /** Moves past the bid {@link #peek()} returned. */
  void pop() {
    if (next != null) {
      next = null;
      nextIndex++;
    }
  }

  /**
   * {@code sim} in real time: instants mapped, the duration shrunk (at least one minute, with the
   * latest end moved out when the rounded duration no longer fits), and an earliest start that has
   * passed moved up to the next slot after {@code nowMillis}. {@code null} when the bid can no
   * longer run before its latest end.
   */
  static DemandBid toReal(DemandBid sim, TimeMapping map, long nowMillis, int slotSeconds) {
    int minutes = map.durationMinutes(sim.durationMinutes());
    Instant earliest = map.toReal(sim.earliestStart());
    Instant latest = map.toReal(sim.latestEnd());
    Instant fits = earliest.plus(Duration.ofMinutes(minutes));
    if (latest.isBefore(fits)) {
      latest = fits;
    }
    if (earliest.toEpochMilli() < nowMillis) {
      earliest = TimeMapping.ceilToSlot(Instant.ofEpochMilli(nowMillis), slotSeconds);
      if (earliest.plus(Duration.ofMinutes(minutes)).isAfter(latest)) {
        return null;
      }
    }
    return new DemandBid(
        sim.gpuModel(),
        sim.nodes(),
        sim.minNodes(),
        minutes,
        earliest,
        latest,
        sim.limitPrice(),
        sim.timeInForce());
  }

  /** The JSON body of {@code POST /v1/bids} for {@code bid}. */
  static String json(DemandBid bid) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("gpuModel", bid.gpuModel().name());
    o.put("nodes", bid.nodes());
    o.put("minNodes", bid.minNodes());
    o.put("durationMinutes", bid.durationMinutes());
    o.put("earliestStart", bid.earliestStart().toString());
    o.put("latestEnd", bid.latestEnd().toString());
    o.put("limitPrice", bid.limitPrice());
    o.put("timeInForce", bid.timeInForce().name());
    return o.toString();
  }
}
