package io.surplus.feed.sim;

import io.surplus.engine.BidSpec;
import io.surplus.engine.GpuModel;
import io.surplus.engine.Price;
import io.surplus.engine.TimeInForce;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A bid as an outside customer would post it to {@code POST /v1/bids}: up to {@code nodes} nodes
 * (at least {@code minNodes}) of {@code gpuModel} for {@code durationMinutes}, somewhere in {@code
 * [earliestStart, latestEnd)}, at no more than {@code limitPrice} USD per GPU-hour.
 */
public record DemandBid(
    GpuModel gpuModel,
    int nodes,
    int minNodes,
    int durationMinutes,
    Instant earliestStart,
    Instant latestEnd,
    String limitPrice,
    TimeInForce timeInForce) {

  public DemandBid {
    Objects.requireNonNull(gpuModel, "gpuModel");
    Objects.requireNonNull(earliestStart, "earliestStart");
    Objects.requireNonNull(latestEnd, "latestEnd");
    Objects.requireNonNull(timeInForce, "timeInForce");
    if (nodes <= 0 || nodes > BidSpec.MAX_NODES) {
      throw new IllegalArgumentException(
          "nodes must be in 1.." + BidSpec.MAX_NODES + ": nodes=" + nodes);
    }
    if (minNodes <= 0 || minNodes > nodes) {
      throw new IllegalArgumentException(
          "minNodes must be in 1..nodes: minNodes=" + minNodes + ", nodes=" + nodes);
    }
    if (durationMinutes <= 0) {
      throw new IllegalArgumentException(
          "durationMinutes must be > 0: durationMinutes=" + durationMinutes);
    }
    if (Duration.between(earliestStart, latestEnd).toMinutes() < durationMinutes) {
      throw new IllegalArgumentException(
          "durationMinutes must fit between earliestStart and latestEnd: durationMinutes="
              + durationMinutes);
    }
    Price.parse(limitPrice);
  }

  /** The limit price in micro-dollars. */
  public long limitPriceMicros() {
    return Price.parse(limitPrice);
  }

  /**
   * This bid as the engine holds it, made as the API makes it: any region, no minimum notice, no
   * expiry, no requeue, no confidence floor and no avoided pool.
   *
   * @param bidId the engine's bid id
   * @param accountId the engine's account id
   * @param slots {@link #durationMinutes()} in slots
   * @param startSlot the first slot the bid may start in ({@link #earliestStart()} in slots)
   * @param endSlot the slot the bid must end by ({@link #latestEnd()} in slots)
   * @throws IllegalArgumentException when the slots break a rule of {@link BidSpec}
   */
  public BidSpec toSpec(long bidId, long accountId, int slots, int startSlot, int endSlot) {
    return BidSpec.gtc(
            bidId, accountId, nodes, minNodes, slots, startSlot, endSlot, limitPriceMicros())
        .withTimeInForce(timeInForce, BidSpec.NO_EXPIRY);
  }
}
