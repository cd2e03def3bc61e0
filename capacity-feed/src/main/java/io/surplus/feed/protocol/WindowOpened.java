package io.surplus.feed.protocol;

import static io.surplus.feed.protocol.FeedRules.require;

import io.surplus.engine.GpuModel;
import java.time.Instant;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * {@code window.opened}: {@code nodes} identical nodes of {@code pool} are free over {@code [start,
 * end)}, sold at no less than {@code reservePrice}, with {@code noticeSeconds} promised before any
 * planned reclaim.
 *
 * @param windowId the provider's id for the window, unique per provider
 * @param reservePrice USD per GPU-hour in micro-dollars
 * @param confidencePpm the provider's probability, in parts per million, that the window survives
 *     to its end; empty when the provider gives none
 */
public record WindowOpened(
    long seq,
    String windowId,
    GpuModel gpuModel,
    String pool,
    String region,
    int nodes,
    int gpusPerNode,
    Instant start,
    Instant end,
    long reservePrice,
    int noticeSeconds,
    OptionalInt confidencePpm)
    implements FeedEvent {

  public WindowOpened {
    require("seq", FeedRules.seq(seq));
    require("windowId", FeedRules.name(windowId));
    Objects.requireNonNull(gpuModel, "gpuModel");
    require("pool", FeedRules.name(pool));
    require("region", FeedRules.region(region));
    require("nodes", FeedRules.positive(nodes, FeedRules.MAX_NODES));
    require("gpusPerNode", FeedRules.positive(gpusPerNode, FeedRules.MAX_GPUS_PER_NODE));
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(end, "end");
    require("end", FeedRules.after(start, end));
    require("reservePrice", FeedRules.positive(reservePrice, io.surplus.engine.Price.MAX_MICROS));
    require("noticeSeconds", FeedRules.notice(noticeSeconds));
    Objects.requireNonNull(confidencePpm, "confidencePpm");
    if (confidencePpm.isPresent()) {
      require("confidence", FeedRules.confidencePpm(confidencePpm.getAsInt()));
    }
  }

  @Override
  public String type() {
    return WINDOW_OPENED;
  }
}
