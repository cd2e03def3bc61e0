package io.surplus.feed.sim;

import io.surplus.engine.GpuModel;
import io.surplus.engine.Price;
import io.surplus.feed.protocol.FeedRules;
import java.util.Objects;

/**
 * One pool of the simulated fleet: {@code nodes} identical 8-GPU nodes of {@code gpuModel} on one
 * fabric in {@code region}, running one training job at a time. The pool's name is also its
 * provider id in the feed.
 *
 * @param reservePrice the floor its windows ask, micro-dollars per GPU-hour
 */
public record PoolSpec(
    String name, GpuModel gpuModel, String region, int nodes, long reservePrice) {

  public PoolSpec {
    if (FeedRules.name(name) != null) {
      throw new IllegalArgumentException("name " + FeedRules.name(name) + ": name=" + name);
    }
    Objects.requireNonNull(gpuModel, "gpuModel");
    if (FeedRules.region(region) != null) {
      throw new IllegalArgumentException(
          "region " + FeedRules.region(region) + ": region=" + region);
    }
    if (nodes < 8 || nodes > 65_536) {
      throw new IllegalArgumentException("nodes must be in 8..65536: nodes=" + nodes);
    }
    if (reservePrice <= 0 || reservePrice > Price.MAX_MICROS) {
      throw new IllegalArgumentException(
          "reservePrice must be a valid price: reservePrice=" + reservePrice);
    }
  }

  public static PoolSpec of(
      String name, String gpuModel, String region, int nodes, String reserve) {
    return new PoolSpec(name, new GpuModel(gpuModel), region, nodes, Price.parse(reserve));
  }
}
